"""Process checks for the local runner and its tests."""

import psutil


def process_alive(pid: int) -> bool:
    """Running, not merely an unreaped zombie (a container's init may reap late)."""
    try:
        return bool(psutil.Process(pid).status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
