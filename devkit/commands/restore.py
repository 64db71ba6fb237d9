"""``devkit restore``: the same function as ``devkit backup restore`` (also ``devkit-restore``, ``bin/restore``)."""

from devkit.commands import backup


def add_arguments(parser):
    """Options of ``restore`` (those of ``backup restore``)."""
    parser.epilog = backup.EPILOG
    backup.add_restore_arguments(parser)


def run(ctx, args):
    """Restore through ``devkit backup restore``'s implementation and exit-code table."""
    args.action = "restore"
    return backup.run(ctx, args)
