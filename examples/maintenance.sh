#!/bin/sh
# Nightly maintenance for a project that uses devkit: back up and verify, plan then apply the
# cleanup, write a report. Run it in the project's folder (devkit finds its config upward), e.g.
# from cron:   15 3 * * *  cd /srv/my-app && /path/to/devkit/examples/maintenance.sh >> maintenance.log 2>&1
# DEVKIT says how to run devkit (default: this checkout's bin/devkit; "devkit" after pip install).
# KEEP_DAILY, KEEP_WEEKLY: backups kept by the prune (default 7 daily, 4 weekly; older ones are deleted).
# Exit 0 when all went well, 1 when a step warned, else the failing step's exit code.
set -u

here="$(cd "$(dirname "$0")/.." && pwd)"
DEVKIT="${DEVKIT:-python3 $here/bin/devkit}"
warned=0

step() {  # run one devkit command; exit code 1 is a warning, anything above stops the run
  echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) devkit $*"
  $DEVKIT "$@"
  code=$?
  if [ "$code" -eq 1 ]; then
    warned=1
  elif [ "$code" -ne 0 ]; then
    echo "maintenance.sh: 'devkit $*' failed with exit code $code; later steps not run" >&2
    exit "$code"
  fi
}

step backup create --label nightly
step backup verify --all
step backup prune --keep-daily "${KEEP_DAILY:-7}" --keep-weekly "${KEEP_WEEKLY:-4}" --apply
step cleanup
step cleanup --apply
step export-data report -o reports/maintenance.md
exit "$warned"
