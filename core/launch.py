"""Several training processes, on one machine or several, through torchrun: command lines, ports, lifecycle.

A run whose `launch:` section asks for more than one process (or machine) trains under torchrun
(`python -m torch.distributed.run`), which starts one process per rank on the same entry,
`finetune-studio worker RUN_DIR`, with the same config.yaml; core.distributed is the rank side. torchrun is the
field's launcher: it does the rendezvous (c10d), the per-rank environment and ending the other ranks when one
fails. What this module adds is around it:

- the command line for this machine, and for every machine of a multi-node run (Copy launch command);
- a free port for a one-machine run, and the checks on the launch settings (validation asks `launch_problems`);
- the supervisor: `finetune-studio supervise RUN_DIR`, the process that holds the run folder's RunLock while
  torchrun trains, starts torchrun in a process group of its own, forwards rank 0's metrics to a progress sink,
  turns Stop into the stop file, and, when torchrun fails, writes the run's failed status naming the rank and its
  last error. When it ends, no process of the run is left: torchrun's tree and every rank's pid (from their
  heartbeats) are ended; killed outright (SIGKILL: no clean-up runs), the kernel's parent-death signal ends
  torchrun, which ends its ranks, and each rank also ends with torchrun;
- one process on a chosen GPU other than GPU 0 trains under torchrun too (needs_own_process): only a fresh
  process can be given CUDA_VISIBLE_DEVICES before its CUDA starts;
- the window's side: `start_detached` starts a supervisor in a session of its own (closing the window does not
  stop the run) and `follow` feeds its metrics to the window, as the Runs tab follows a run from the CLI.

The stop file of a segment (a Start, a Resume) is cleared by whoever starts that segment, before anyone can ask it
to stop: the CLI's `run`/`resume` in torchrun_execute (its own Ctrl-C is written after), the window's side in
`start_detached`. The detached supervisor keeps what it finds: a Stop pressed while it was still starting (the
window writes the file at once) stops the run at its first optimizer step, with a checkpoint.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from finetune_studio.core.config import RunConfig, as_written, kind_of, load_config, save_config
from finetune_studio.core.distributed import (
    SUPERVISED_ENV,
    TERMINATED,
    clear_heartbeats,
    clear_stop,
    die_with_parent,
    parent_death_signal,
    read_heartbeats,
    request_stop,
)
from finetune_studio.core.errors import WARNING, ConfigError, FinetuneError, Problem, TrainingError
from finetune_studio.core.events import EndEvent, Sink
from finetune_studio.core.metrics import MetricsLog, read_metrics
from finetune_studio.core.runs import RunFolder, RunLock

LAUNCH_LOG = "launch.log"  # torchrun's own output (and the supervisor's), in the run folder
RDZV_TIMEOUT_S = 300  # how long a node waits for the others at the rendezvous before giving up (the default)
POLL_S = 0.2
TERMINATE_GRACE_S = 10.0
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")
RDZV_ID = "finetune-studio"  # the same on every machine; the endpoint's port keeps one run's rendezvous apart


# ---------------------------------------------------------------------------------------------- the plan
def processes_per_node(config: RunConfig) -> int:
    """Processes on each machine: launch.processes, or one per chosen GPU when several are chosen."""
    launch = config.launch
    if isinstance(launch.processes, int) and launch.processes > 1:
        return launch.processes
    return max(1, len(launch.devices) if isinstance(launch.devices, list) else 1)


def uses_torchrun(config: RunConfig) -> bool:
    """A run of more than one process (or machine) trains under torchrun, and so does one process on a chosen GPU
    the app's own process would not train on (see needs_own_process); any other one-process run trains
    in-process."""
    nodes = config.launch.nodes
    return processes_per_node(config) > 1 or (isinstance(nodes, int) and nodes > 1) or needs_own_process(config)


def needs_own_process(config: RunConfig) -> bool:
    """One process on a chosen GPU other than GPU 0 (nvidia-smi's numbers). A process trains on its cuda:0, and
    which GPU that is only CUDA_VISIBLE_DEVICES says, read once when CUDA starts, so the app's own process (whose
    CUDA may have started, and which a window shares with other work) cannot switch: such a run trains in a fresh
    process under the launcher, which sets CUDA_VISIBLE_DEVICES to the chosen GPU before anything starts. GPU 0
    trains in-process, as the default run does, unless this process's CUDA_VISIBLE_DEVICES makes its cuda:0
    another GPU."""
    devices = config.launch.devices if isinstance(config.launch.devices, list) else []
    if not devices:
        return False
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    return list(devices) != [0] or (visible is not None and visible.strip() != "0")


def world_size(config: RunConfig) -> int:
    return processes_per_node(config) * max(1, config.launch.nodes)


def parse_endpoint(text: str) -> tuple[str, int]:
    """'host:port' (or '[v6]:port') as (host, port); ValueError with the reason otherwise."""
    text = text.strip()
    match = re.fullmatch(r"\[([^\]]+)\]:([0-9]+)|([^:\s]+):([0-9]+)", text)  # [0-9]: \d takes other scripts' digits
    if not match:
        raise ValueError(f"'{text}' is not host:port (e.g. 192.168.1.10:29500)" + _endpoint_hint(text))
    host = match.group(1) or match.group(3)
    port = int(match.group(2) or match.group(4))
    if not 1 <= port <= 65535:
        # The endpoint as written: "port 0 is outside 1-65535" named neither the field's text nor what to write.
        raise ValueError(f"'{text}' has port {port}, outside 1-65535. To fix: write a port from 1024 to 65535 "
                         f"after the host, e.g. {f'[{host}]' if match.group(1) else host}:29500")
    wrong = address_problem(host, bracketed=match.group(1) is not None)
    if wrong:
        raise ValueError(f"'{text}' names {host}, which {wrong}")
    return host, port


def _endpoint_hint(text: str) -> str:
    """': …. To fix: …' for the endpoints users write that are no host:port but say which one they meant: a URL
    ('http://node0:29500', copied from a browser or a dashboard), an IPv6 address without brackets ('fd00::1:29500',
    where a port after an IPv6 address cannot be told from the address's own last part), a space ('node 0:29500').
    '' for anything else (the plain "is not host:port" says it)."""
    import ipaddress

    url = re.fullmatch(r"([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)(.*)", text)
    if url:
        scheme, place = url.group(1), url.group(2).rsplit("@", 1)[-1]
        if re.fullmatch(r"(\[[^\]]+\]|[^:\s\[\]]+):[0-9]+", place):
            suggestion = place
        else:  # no port, or no number after the colon: the host with the usual port
            suggestion = f"{(place.split(':')[0] if place.count(':') == 1 else place) or '192.168.1.10'}:29500"
        return (f": it is a URL, and torchrun takes the bare host and port, without {scheme}:// or a path. To fix: "
                f"write {suggestion}" + ("" if suggestion == place else " (29500, or another free port)"))

    def ipv6(value: str) -> bool:
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            return False
        return True

    if text.count(":") >= 2 and "[" not in text:
        head, _, tail = text.rpartition(":")
        if ipv6(text):
            return (": it is an IPv6 address without a port. To fix: write the address in brackets and the port after "
                    f"it, e.g. [{text}]:29500" + (f", or [{head}]:{tail} if {tail} is the port"
                                                   if re.fullmatch(r"[0-9]+", tail) and ipv6(head) else ""))
        if re.fullmatch(r"[0-9]+", tail) and ipv6(head):
            return f": an IPv6 address goes in brackets before the port. To fix: write [{head}]:{tail}"
    spaced = re.search(r"\s", text)
    if spaced:
        fixed = re.sub(r"\s+", "", text)
        return (f": it has a space in it, and a host name or address has none. To fix: write it without, e.g. {fixed}"
                if re.fullmatch(r"[^:]+:[0-9]+", fixed) else ": it has a space in it, and a host name or address has "
                "none")
    return ""


def address_problem(host: str, bracketed: bool = False) -> str:
    """Why `host` is no address, as the end of "… names HOST, which …"; '' when it may be one. A host of digits and
    dots alone is an IPv4 address or nothing (no host name is all numbers: RFC 1123 2.1, RFC 3696 2), so 999.1.1.1
    and 10.0.0 are refused; so is a host with a character no host name has (ASCII other than letters, digits, '.',
    '-', '_'; or an invisible one): 'user@node0' or 'node0/x' validated, and every machine waited for a host no
    resolver knows. Any other host name (IDN ones too) is left to the resolver. `bracketed`: written [host], an IPv6
    address."""
    import ipaddress

    if bracketed:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return "is not an IPv6 address (only an IPv6 address is written in brackets, e.g. [fd00::1]:29500)"
        return ""
    strange = [c for c in host if (c.isascii() and not (c.isalnum() or c in ".-_")) or not c.isprintable()]
    if strange:
        return (f"has {ascii(strange[0])} in it, a character no host name or address has (write the bare name or "
                "address, without a user@, a path or a scheme)")
    if not re.fullmatch(r"[0-9.]+", host):
        return ""
    numbers = host.split(".")
    above = [n for n in numbers if n and int(n) > 255]
    if len(numbers) != 4 or not all(numbers) or above:
        return ("is not an IPv4 address: that is four numbers from 0 to 255 joined by dots, e.g. 192.168.1.10"
                + (f" ({above[0]} is above 255)" if above else ""))
    zeros = [n for n in numbers if len(n) > 1 and n.startswith("0")]
    if zeros:
        return (f"is ambiguous: {zeros[0]} has a leading zero, which some programs read as an octal number. Write it "
                f"without: {'.'.join(str(int(n)) for n in numbers)}")
    return ""


#: The rendezvous of a run on this machine alone: port 0, so torchrun's c10d store binds a free port itself as it
#: starts (what `torchrun --standalone` does). A port chosen here and bound later by torchrun could be taken by another
#: program in between, and the run then failed with "port in use" for no fault of the user's.
ONE_MACHINE_ENDPOINT = "127.0.0.1:0"


def port_in_use(port: int, host: str = "") -> bool:
    """Whether binding the port here fails (another program listens on it, or this user may not: see port_refusal)."""
    return port_refusal(port, host) is not None


def port_refusal(port: int, host: str = "") -> str | None:
    """Why binding the port here fails: 'in use' (another program listens on it), 'privileged' (a port below 1024,
    which only root may listen on, and this process is not root), or None when it binds. Both were 'in use', and a
    user who wrote localhost:80 was told another program held a port that nothing held."""
    import errno

    # Any address of this machine: IPv4, then IPv6 where it has IPv6. torchrun's rendezvous store listens on both,
    # and a program on [::1]:PORT alone left 0.0.0.0:PORT free, so the port passed and the run hung at its start.
    families = [(socket.AF_INET, host)] + ([(socket.AF_INET6, "::")] if not host and socket.has_ipv6 else [])
    for family, address in families:
        try:
            sock = socket.socket(family, socket.SOCK_STREAM)
        except OSError:  # no IPv6 on this machine: nothing can listen there
            continue
        with sock:
            try:
                if family == socket.AF_INET6:
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # IPv6 alone: IPv4 was asked
                sock.bind((address, port))
            except PermissionError:
                return "privileged"
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EPERM):
                    return "privileged"
                if exc.errno == errno.EADDRNOTAVAIL and family == socket.AF_INET6:
                    continue  # IPv6 switched off on the interfaces: nothing listens there either
                return "in use"
    return None


def is_this_machine(host: str) -> bool:
    """Whether `host` (an endpoint's host, as parse_endpoint gives it) names this machine: a loopback name or address,
    one of this machine's names (compared without case, as DNS does), or an address of one of its network
    interfaces. An address is asked of the kernel (a socket binds to it only here), so a second network card's
    address counts, which _this_machine_names (the addresses the host name resolves to, often just 127.0.1.1)
    misses. A host name not among this machine's names is not looked up: no DNS on the checks' path."""
    host = host.strip().strip("[]")
    if host.lower() in LOCAL_HOSTS or is_loopback(host):
        return True
    if host.lower() in {name.lower() for name in _this_machine_names()}:
        return True
    return _binds_here(host)


def _binds_here(host: str) -> bool:
    """An IP address a socket here can bind (one of this machine's); False for a host name (never resolved)."""
    import ipaddress

    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.bind((str(address), 0))
    except OSError:  # EADDRNOTAVAIL: another machine's address (or no IPv6 here)
        return False
    return True


@functools.lru_cache(maxsize=1)
def _this_machine_names() -> frozenset[str]:
    """This machine's host names and addresses, looked up once per process: getfqdn is a reverse DNS lookup, which
    a misconfigured resolver can keep waiting for seconds, and the Launch tab asks at every check of the config, on
    the GUI thread (lines_checks). An address the machine gets later (a new DHCP lease) counts after a restart."""
    try:
        names = {socket.gethostname(), socket.getfqdn()}
        addresses = {info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None)}
    except OSError:
        return frozenset()
    return frozenset(names | addresses)


def rendezvous_host(config: RunConfig) -> str | None:
    """Machine 0's host as launch.rdzv_endpoint names it; None when there is none (one machine) or it cannot be read
    (validation names it)."""
    endpoint = config.launch.rdzv_endpoint.strip() if isinstance(config.launch.rdzv_endpoint, str) else ""
    try:
        return parse_endpoint(endpoint)[0] if endpoint else None
    except ValueError:
        return None


def machine_zero_here(config: RunConfig) -> bool:
    """Whether machine 0's launch line runs on this machine: a run on one machine (it always runs here: an endpoint
    naming another host is validation's error, one_machine_elsewhere), its rendezvous host is this machine, or no
    host is named (an endpoint validation refuses, and then no line is given). The one rule `finetune-studio
    launch-command` and the Launch tab's Copy launch command judge by (lines_checks)."""
    nodes = config.launch.nodes
    if not isinstance(nodes, int) or isinstance(nodes, bool) or nodes <= 1:
        return True
    host = rendezvous_host(config)
    return host is None or is_this_machine(host)


def one_machine_elsewhere(config: RunConfig, host: str) -> Problem | None:
    """A run on one machine whose rendezvous endpoint names another host. One machine trains here (Start, `train`,
    its single launch line), and torchrun would wait there for a rendezvous store on that host that nobody starts;
    the endpoint is left over from a run on several machines, or Machines was meant to be 2 or more. Refused, not
    ignored: a run meant for several machines must not quietly train alone."""
    if is_this_machine(host):
        return None
    return Problem("launch.rdzv_endpoint", (
        f"This run is on 1 machine (this one), but its rendezvous endpoint names {host}, which is not this machine "
        "(not one of its names or addresses): a run on one machine trains here and meets on itself. To fix: set "
        "Machines (launch.nodes) to 2 or more if the run spans machines, or leave the endpoint empty (a free port "
        "here), or give this machine's own address, e.g. localhost:29500 for a fixed port."))


def lines_checks(config: RunConfig, problems: list[Problem], here: bool | None = None
                 ) -> tuple[list[Problem], list[Problem]]:
    """Of `problems` (validate's for config, this machine's checks among them), for the launch lines of every
    machine: (those the lines answer to, the errors of this machine alone they leave out). Where machine 0's line
    runs here (`here`, default machine_zero_here), every check applies. Elsewhere the lines run on other machines,
    so the launch errors of this machine alone are left out: its GPUs (a chosen GPU it lacks, fewer GPUs than
    processes), its memory, a port in use here; those launch_problems finds of the config alone stay. The CLI's
    launch-command and the Launch tab's Copy launch command both ask this, so they refuse the same configs."""
    if machine_zero_here(config) if here is None else here:
        return list(problems) + _zero_port_problem(config, problems), []
    general = launch_problems(config, here=False)
    mine = [p for p in problems if p.field.startswith("launch.") and p.level != WARNING and p not in general]
    return [p for p in problems if p not in mine], mine


def _zero_port_problem(config: RunConfig, problems: list[Problem]) -> list[Problem]:
    """The lines hold machine 0's whatever launch.node_rank this config has: where it runs here, a port in use here
    stops it. launch_problems asks only for node_rank 0 (the machine `train` starts is the config's own), so the
    same lines were refused with node_rank 0 and printed with node_rank 1."""
    if config.launch.node_rank == 0 or any(p.level != WARNING and p.field in ("launch.rdzv_endpoint",
                                                                              "launch.node_rank") for p in problems):
        return []  # node_rank 0: launch_problems asked already; a wrong endpoint or number: no port to ask about
    try:
        host, port = parse_endpoint(config.launch.rdzv_endpoint)
    except (ValueError, AttributeError):
        return []
    problem = _store_port_problem(config, host, port)
    return [problem] if problem else []


def _machines(count: int) -> str:
    return "1 machine" if count == 1 else f"{count} machines"


def is_loopback(host: str) -> bool:
    """An address only this machine can reach (localhost, 127.x, ::1) or no address at all (0.0.0.0)."""
    import ipaddress

    host = host.strip().strip("[]").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def is_gpu_number(value: Any) -> bool:
    """A GPU number as launch.devices lists them (0, 1, …): an int and not a bool (True is an int in Python, so
    `devices: [true]` would otherwise read as GPU 1)."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def device_list_problems(devices: Any) -> list[Problem]:
    """launch.devices as written: a list of GPU numbers (0, 1, …), each once. Text ("0,1"), true/false or names
    would reach CUDA_VISIBLE_DEVICES as they are."""
    if devices is None or devices == []:
        return []
    numbers = isinstance(devices, list) and all(is_gpu_number(d) for d in devices)
    if not numbers:
        from finetune_studio.core.validation import written_value  # [cpu], '0,1': as the config file writes them

        # YAML's true/false (and yes/no, on/off) load as Python's bools, which are ints: said in YAML's words.
        flags = sorted({str(d).lower() for d in devices if isinstance(d, bool)}) if isinstance(devices, list) else []
        said = (f" {' and '.join(flags)} {'is not a GPU number' if len(flags) == 1 else 'are not GPU numbers'} "
                "(GPU 1 is written 1)." if flags else "")
        entries = devices if isinstance(devices, list) else [devices]
        if any(isinstance(d, str) and d.strip().lower() == "cpu" for d in entries):
            said += (" cpu is not a GPU number: to train on the CPU, leave devices empty and set use_cpu: true in the "
                     "training section.")
        return [Problem("launch.devices", f"launch.devices must be a list of GPU numbers (like [0, 1]); got "
                                          f"{written_value(devices)}.{said} To fix: tick GPUs in the Hardware panel, "
                                          "or write them as a list, e.g. devices: [0, 1] (empty: the first GPU, or the "
                                          "CPU).")]
    twice = sorted({d for d in devices if devices.count(d) > 1})
    return [Problem("launch.devices", f"GPU {d} is listed twice in launch.devices {devices}: each process trains "
                                      f"on a GPU of its own. To fix: list each GPU once.") for d in twice]


# The most processes one machine may start. Each one is a training process with its own torch, model and batches, on
# a GPU of its own or a share of the CPU; machines with more than 1024 GPUs, or CPU cores that many processes would
# use, do not exist, so such a count is a typo (or a thousand-fold unit slip). Below it, this machine's own checks
# (launch_problems: its GPUs, its memory; launch_warnings: its cores) judge; the cap alone stands for the lines of
# other machines, whose GPUs and memory are not known here.
MAX_PROCESSES = 1024


def _processes_cap(processes: int) -> Problem | None:
    if processes <= MAX_PROCESSES:
        return None
    return Problem("launch.processes", f"processes is {processes:,}; a machine can run at most {MAX_PROCESSES} "
                                       "training processes (one per GPU, or at most one per CPU core). To fix: set "
                                       "Processes (launch.processes) to the number of GPUs each machine trains "
                                       "on, or on the CPU to its cores or fewer.")


# The most machines one run may name. Each machine is started by hand from its own line (Copy launch command) and
# joins one c10d rendezvous on machine 0; a thousand machines is a typo (or a cluster, which a scheduler such as
# SLURM starts), and validation used to accept it, so the Launch tab and `launch-command` printed a line for each.
MAX_NODES = 64


def _nodes_cap(nodes: int) -> Problem | None:
    if nodes <= MAX_NODES:
        return None
    return Problem("launch.nodes", f"nodes is {nodes}; a run can take at most {MAX_NODES} machines, each started "
                                   "by hand from its own launch line. To fix: set Machines (launch.nodes) to "
                                   f"{MAX_NODES} or fewer, with more processes on each machine; for a bigger "
                                   "cluster, start torchrun through its scheduler (e.g. SLURM) instead.")


# The longest a machine may wait at the rendezvous for the others. torchrun turns join_timeout into a timedelta and
# a deadline: 1e100 (accepted before) ended every line in OverflowError ("Python int too large to convert to C int")
# and 1e12 past the calendar's end, and a machine not there within a week is not coming. A week is the Launch tab's
# own most (its join timeout box), so the box offers nothing validation refuses.
MAX_JOIN_TIMEOUT_S = 7 * 24 * 3600


def _join_timeout_cap(seconds: int) -> Problem | None:
    if seconds <= MAX_JOIN_TIMEOUT_S:
        return None
    said = f"{seconds:,}" if seconds < 10**12 else f"{float(seconds):.0e}"  # 1e100 is not said in 101 digits
    return Problem("launch.join_timeout", f"join_timeout is {said} seconds; a machine can wait at most "
                                          f"{MAX_JOIN_TIMEOUT_S:,} (a week) for the others. To fix: set "
                                          "launch.join_timeout to the seconds the slowest machine needs to start "
                                          "its line, e.g. 300 (five minutes, the default).")


def launch_problems(config: RunConfig, gpu_count: int | None = None, here: bool = True) -> list[Problem]:
    """Every problem with the launch: section, in words, before anything starts. `gpu_count`: the GPUs this
    machine has (None: ask torch, without initialising CUDA). `here` False: the checks of the config alone,
    without those of this machine (its GPUs, a port in use), for command lines other machines run."""
    from finetune_studio.core.validation import whole_number_problem

    launch = config.launch
    problems: list[Problem] = []
    problem = (whole_number_problem("launch.processes", launch.processes, 1, "1: one process, the usual run")
               or _processes_cap(launch.processes))
    if problem:
        problems.append(problem)
    problem = (whole_number_problem("launch.nodes", launch.nodes, 1, "1: this machine alone")
               or _nodes_cap(launch.nodes))
    nodes_ok = problem is None
    if problem:
        problems.append(problem)
    # node_rank's own rule holds whatever nodes says (-1 went unsaid beside a wrong nodes); its bound needs nodes.
    problem = whole_number_problem("launch.node_rank", launch.node_rank, 0, "0: the first machine")
    if problem:
        problems.append(problem)
    elif nodes_ok and launch.node_rank >= launch.nodes:
        allowed = "0" if launch.nodes == 1 else f"a number from 0 to {launch.nodes - 1}"  # not "to 0 to 1"
        problems.append(Problem("launch.node_rank", f"This machine is number {launch.node_rank}, but the run "
                                                    f"has {_machines(launch.nodes)}: it must be {allowed}. "
                                                    "Each machine gets its own number, the first one 0. To fix: "
                                                    f"set This machine (launch.node_rank) to {allowed}."))
    listed = device_list_problems(launch.devices)
    problems += listed
    devices = list(launch.devices) if isinstance(launch.devices, list) else []
    if devices and not listed and not any(p.field == "launch.processes" for p in problems) \
            and processes_per_node(config) > len(devices):
        # The chosen GPUs are all a process sees on every machine (CUDA_VISIBLE_DEVICES in each line): a config
        # error wherever the lines run, not this machine's alone.
        problems.append(_more_processes_than_gpus(processes_per_node(config), len(devices), devices))
    problem = (whole_number_problem("launch.join_timeout", launch.join_timeout, 1, "how many seconds each machine "
                                    "waits for the others; 300 is five minutes")
               or _join_timeout_cap(launch.join_timeout))
    if problem:
        problems.append(problem)
    nodes = launch.nodes if isinstance(launch.nodes, int) and not isinstance(launch.nodes, bool) else 1
    endpoint = launch.rdzv_endpoint.strip() if isinstance(launch.rdzv_endpoint, str) else ""
    host = port = None
    if launch.rdzv_endpoint is not None and not isinstance(launch.rdzv_endpoint, str):
        problems.append(Problem("launch.rdzv_endpoint", f"The rendezvous endpoint must be text such as "
                                                        f"192.168.1.10:29500 (got {as_written(launch.rdzv_endpoint)}, "
                                                        f"{kind_of(launch.rdzv_endpoint)}). To fix: write machine "
                                                        "0's address and a free port as text, e.g. "
                                                        "192.168.1.10:29500, or leave it empty on one machine."))
    elif endpoint:
        try:
            host, port = parse_endpoint(endpoint)
        except ValueError as exc:
            # A reason with its own fix (a URL, an IPv6 address without brackets, a port out of range) ends there.
            problems.append(Problem("launch.rdzv_endpoint", f"The rendezvous endpoint {exc}." + (
                "" if "To fix:" in str(exc) else " To fix: give the first machine's address and a free port, e.g. "
                                                 "192.168.1.10:29500, or leave it empty on one machine.")))
        else:
            problem = one_machine_elsewhere(config, host) if launch.nodes == 1 and type(launch.nodes) is int else None
            if problem:
                problems.append(problem)
    elif nodes > 1:
        problems.append(Problem("launch.rdzv_endpoint", f"A run on {nodes} machines needs a rendezvous "
                                                        "endpoint: the first machine's address and a free port, "
                                                        "e.g. 192.168.1.10:29500, the same on every machine. To "
                                                        "fix: write machine 0's address and port in Rendezvous "
                                                        "(launch.rdzv_endpoint), or set Machines (launch.nodes) to 1 "
                                                        "to train on this machine alone."))
    if nodes > 1 and not (isinstance(config.name, str) and config.name.strip()):
        problems.append(Problem("name", "A run on several machines needs a name: every machine's launch command "
                                        "names the same run folder. To fix: give the run a name (Run name on the "
                                        "Training tab, name: in the file), e.g. two-machines."))
    counts_ok = not any(p.field in ("launch.processes", "launch.nodes") for p in problems)
    if counts_ok and config.training.get("fsdp") and world_size(config) < 2:
        problems.append(Problem("training.fsdp", "FSDP shards the model over several processes; this run has one. "
                                                 "To fix: set Processes (Launch tab, launch.processes) to 2 or "
                                                 "more, or clear fsdp."))
    if not here:
        return problems
    # This machine's checks, each where the settings it reads are right: all at once with the others. They waited
    # for every other launch problem, so a run on two machines without a name and with a port in use here was
    # refused for the name alone, and for the port only after that was fixed.
    wrong = {p.field for p in problems}
    if not wrong & {"launch.rdzv_endpoint", "launch.node_rank"} and launch.node_rank == 0 and nodes_ok:
        problem = _store_port_problem(config, host, port)
        if problem:
            problems.append(problem)
    if wrong & {"launch.processes", "launch.devices"}:
        return problems
    count = _gpu_count() if gpu_count is None else gpu_count
    wanted = processes_per_node(config)
    if count > 0:
        if not devices and wanted > count:  # more than the chosen GPUs: refused above, wherever the lines run
            problems.append(_more_processes_than_gpus(wanted, count))
    elif wanted > 1:
        problem = _memory_problem(wanted)
        if problem:
            problems.append(problem)
    return problems


def _store_port_problem(config: RunConfig, host: str | None, port: int | None) -> Problem | None:
    """Machine 0's torchrun listens for the rendezvous on the endpoint's port: where that is this machine and another
    program holds the port, its line cannot start."""
    if host is None or port is None or not uses_torchrun(config) or not is_this_machine(host):
        return None
    refusal = port_refusal(port)
    if refusal is None:
        return None
    if refusal == "privileged":
        return Problem("launch.rdzv_endpoint", f"Port {port} (in {config.launch.rdzv_endpoint.strip()}) is below "
                                               "1024: only root (the administrator) may listen there on this machine, "
                                               "so the rendezvous cannot. To fix: choose a port from 1024 to 65535, "
                                               "e.g. 29500 (or leave the endpoint empty on one machine: a free port "
                                               "is chosen).")
    return Problem("launch.rdzv_endpoint", f"Port {port} is in use by another program on this machine, so the "
                                           "rendezvous cannot listen there. To fix: choose another port (or leave "
                                           "the endpoint empty on one machine: a free port is chosen).")


def _more_processes_than_gpus(wanted: int, usable: int, devices: list[int] | None = None) -> Problem:
    which = f"the {usable} chosen GPU(s) {devices}" if devices else f"this machine's {usable} GPU(s)"
    return Problem("launch.processes", f"{wanted} processes but only {which}: each process trains on its own GPU. "
                                       f"To fix: use at most {usable} process{'' if usable == 1 else 'es'}, or "
                                       "choose more GPUs.")


# Each CPU rank imports torch and transformers' Trainer (about 430 MiB resident, measured) before it loads the
# model and its batches: 512 MiB is the least a rank takes.
RANK_BASE_BYTES = 512 << 20


def _memory_problem(processes: int) -> Problem | None:
    """More CPU processes than this machine's memory can start at all: each one loads torch and the model."""
    total = _memory_bytes()
    if not total or processes * RANK_BASE_BYTES <= total:
        return None
    most = max(1, total // RANK_BASE_BYTES)
    return Problem("launch.processes", f"{processes} processes cannot start on this machine: each one loads torch "
                                       f"and the model (at least {RANK_BASE_BYTES >> 20} MiB each), and it has "
                                       f"{total / (1 << 30):.0f} GiB of memory. To fix: use at most {most} "
                                       f"processes; on the CPU, {_cores()} (its cores) or fewer is fastest.")


def _memory_bytes() -> int:
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:  # noqa: BLE001 - no psutil: no memory bound
        try:
            return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
        except (ValueError, OSError, AttributeError):
            return 0


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def launch_warnings(config: RunConfig) -> list[Problem]:
    """Launch settings that run but may not do what they say (level WARNING, never blocking). Cheap: torch is
    asked about GPUs only when it is imported already."""
    launch = config.launch
    if any(not isinstance(v, int) or isinstance(v, bool) for v in (launch.processes, launch.nodes)):
        return []
    found: list[Problem] = []
    endpoint = launch.rdzv_endpoint.strip() if isinstance(launch.rdzv_endpoint, str) else ""
    if launch.nodes > 1 and endpoint:
        try:
            host, port = parse_endpoint(endpoint)
        except ValueError:
            host, port = "", 0
        if host and port < 1024 and not is_this_machine(host):
            # Machine 0 is another machine: whether its line may listen there is known only there (here, the check
            # binds the port itself, launch_problems).
            found.append(Problem("launch.rdzv_endpoint", (
                f"Port {port} (in {endpoint}) is below 1024: on machine 0 ({host}) only root (the administrator) may "
                "listen there, so its launch line fails unless it runs as root. To fix: choose a port from 1024 to "
                "65535, e.g. 29500."), WARNING))
        if host and is_loopback(host):
            found.append(Problem("launch.rdzv_endpoint", (
                f"With {_machines(launch.nodes)} the rendezvous endpoint must be machine 0's network address, not "
                f"{host}: the other machines would look for it on themselves and wait {join_timeout(config):g} s in "
                "vain. To fix: give machine 0's address, e.g. 192.168.1.10:29500 (keep a local address only when "
                "every node runs on this machine, as in a test)."), WARNING))
    idle = _idle_gpus(launch.devices, launch.processes)
    if idle:
        found.append(idle)

    def no_gpu() -> bool:  # asked only where it matters, and only of a torch imported already
        return "torch" in sys.modules and _gpu_count() == 0

    if config.training.get("fsdp") and world_size(config) > 1 and no_gpu():
        found.append(Problem("training.fsdp", "FSDP needs GPUs: on the CPU, accelerate trains these processes "
                                              "data-parallel (DDP) instead, each holding the whole model.", WARNING))
    cores = _cores()
    if launch.processes > cores and no_gpu():
        found.append(Problem("launch.processes", (
            f"{launch.processes} processes on a machine without a GPU, which has {cores} CPU "
            f"core{'' if cores == 1 else 's'}: each process "
            "loads torch and the model and trains on the CPU, so more processes than cores run slower, not faster. "
            f"To fix: set Processes to {cores} or fewer."), WARNING))
    return found


def _idle_gpus(devices: Any, processes: int) -> Problem | None:
    """More GPUs chosen than processes (above 1) start: each process trains on one of them, in the order listed,
    and the rest stay idle while the run says it trains on all of them. processes 1 starts one per chosen GPU
    (processes_per_node), so only a count above 1 and below the GPUs leaves some out."""
    if not isinstance(devices, list) or device_list_problems(devices) or not 1 < processes < len(devices):
        return None
    left = devices[processes:]
    gpus = f"GPU{'s' if len(left) > 1 else ''} {', '.join(map(str, left))}"
    return Problem("launch.processes", (
        f"{len(devices)} GPUs are chosen (launch.devices {devices}) but processes is {processes}: each process "
        f"trains on one GPU, so {gpus} {'stay' if len(left) > 1 else 'stays'} idle. To fix: set Processes "
        f"(launch.processes) to {len(devices)}, or to 1 (one process per chosen GPU), or untick {gpus}."), WARNING)


def _gpu_count() -> int:
    """GPUs torch can use here, without initialising CUDA in this process (a fork-safe NVML count)."""
    try:
        import torch

        return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0
    except Exception:  # noqa: BLE001 - no torch or no driver: no GPUs
        return 0


def join_timeout(config: RunConfig, override: float | None = None) -> float:
    """Seconds a machine waits at the rendezvous for the others: `override` (a caller's own, as tests give), else
    launch.join_timeout, else the default where the config's value is unusable (validation names it)."""
    if override is not None:
        return override
    value = config.launch.join_timeout
    usable = isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < float("inf")
    return int(value) if usable else RDZV_TIMEOUT_S


def torchrun_args(config: RunConfig, endpoint: str, node_rank: int | None = None,
                  rdzv_timeout_s: float | None = None) -> list[str]:
    """torchrun's own options for one machine of this run (c10d rendezvous at endpoint)."""
    launch = config.launch
    rank = launch.node_rank if node_rank is None else node_rank
    conf = f"join_timeout={int(join_timeout(config, rdzv_timeout_s))}" + (",is_host=1" if hosts_store(endpoint, rank)
                                                                          else "")
    args = ["--nnodes", str(max(1, launch.nodes)), "--nproc-per-node", str(processes_per_node(config)),
            "--rdzv-backend", "c10d", "--rdzv-endpoint", endpoint, "--rdzv-id", RDZV_ID,
            "--rdzv-conf", conf, "--max-restarts", "0"]
    if launch.nodes > 1:
        args += ["--node-rank", str(rank)]
    return args


def hosts_store(endpoint: str, node_rank: int) -> bool:
    """Whether machine `node_rank`'s torchrun is told to host the rendezvous store (is_host=1): machine 0, whose
    address the endpoint is, unless that is a loopback one. Left to itself, torchrun hosts the store only where the
    endpoint's host matches the machine's host name or the addresses that name resolves to
    (_matches_machine_hostname); an address of a network card the name does not resolve to (the LAN address, where
    /etc/hosts maps the name to 127.0.1.1, as Debian and Ubuntu do) made machine 0 a client too, and every machine
    waited for a store nobody started, then failed (pytorch/pytorch#73656). A loopback endpoint (every node on this
    machine, the one-machine default 127.0.0.1:0) keeps torchrun's own choice, which also lets a second node on the
    same machine that started first host it."""
    try:
        host = parse_endpoint(endpoint)[0]
    except ValueError:
        return False
    return node_rank == 0 and not is_loopback(host)


def worker_args(run_dir: Path, config_path: Path | None = None, resume_from: str | None = None) -> list[str]:
    """What torchrun runs on every rank: the same core entry, the same config."""
    args = ["-m", "finetune_studio.core.cli", "worker", str(run_dir)]
    if config_path is not None:
        args += ["--config", str(config_path)]
    if resume_from:
        args += ["--resume-from", str(resume_from)]
    return args


def node_commands(config: RunConfig, config_path: str | Path = "config.yaml", run_dir: str | Path | None = None,
                  resume: bool = False) -> list[str]:
    """Copy launch command: the exact torchrun line for every machine, node 0 first. Each machine needs the
    config file at config_path; with a runs folder on a shared disk, a stopped run resumes with the same lines
    plus --resume-from latest. Raises ConfigError with validate's words when the launch: section (or the name it
    needs) is wrong: no line is given that torchrun would refuse or that would wait in vain. This machine's own
    state (its GPUs, a port its own run already listens on) is not checked: the lines are for other machines too.

    Each line runs torchrun as `<this app's python> -m torch.distributed.run`, the interpreter the app and its
    ranks run in (the `torchrun` script is on PATH only in an activated environment): every machine needs the app
    installed at the same path, as it needs the config at config_path."""
    from finetune_studio.core.config import runs_dir_of

    problems = launch_problems(config, here=False)
    if problems:
        raise ConfigError(problems)
    name = config.name or "multinode-run"  # one machine only: several need a name (launch_problems)
    # Absolute, as the config's path: a relative run folder resolved against each shell's working directory, so
    # machines started from different folders wrote different runs (helper-55).
    folder = (Path(run_dir) if run_dir else runs_dir_of(config) / name).absolute()
    endpoint = (config.launch.rdzv_endpoint or "").strip() or ONE_MACHINE_ENDPOINT
    # The chosen GPUs, as the app's own Start sets them (launch_environment): without them a line run by hand
    # trained on cuda:0 and cuda:1 in torch's order, not on the GPUs the config names.
    gpus = (["env", "CUDA_DEVICE_ORDER=PCI_BUS_ID", "CUDA_VISIBLE_DEVICES=" + ",".join(map(str, config.launch.devices))]
            if config.launch.devices else [])
    lines = []
    for rank in range(config.launch.nodes):
        argv = [*gpus, sys.executable, "-m", "torch.distributed.run", *torchrun_args(config, endpoint, node_rank=rank),
                *worker_args(folder, Path(config_path).absolute(), "latest" if resume else None)]
        lines.append(shlex.join(argv))  # the config by its absolute path: a line run from another folder finds it
    return lines


def local_command(config: RunConfig, run_dir: Path, endpoint: str, resume_from: Path | None,
                  rdzv_timeout_s: float | None = None) -> list[str]:
    """The torchrun command this machine runs for the run in run_dir (its config.yaml)."""
    return [sys.executable, "-m", "torch.distributed.run",
            *torchrun_args(config, endpoint, rdzv_timeout_s=rdzv_timeout_s),
            *worker_args(run_dir, None, str(resume_from) if resume_from else None)]


def launch_environment(config: RunConfig) -> dict[str, str]:
    env = dict(os.environ)
    env[SUPERVISED_ENV] = str(os.getpid())
    env.setdefault("CUDA_DEVICE_ORDER", "PCI_BUS_ID")  # GPU numbers as nvidia-smi shows them
    if config.launch.devices:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(d) for d in config.launch.devices)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


# ---------------------------------------------------------------------------------------------- the supervisor
def run(config: RunConfig, sink: Sink | None = None, stop: threading.Event | None = None,
        rdzv_timeout_s: float | None = None) -> Any:
    """`finetune-studio train` of a multi-process config: a new run folder, trained by torchrun from here."""
    from finetune_studio.core.training import run as train_run

    return train_run(config, sink, stop, execute=_executor(rdzv_timeout_s))


def resume(run_dir: Path, sink: Sink | None = None, stop: threading.Event | None = None,
           extra_epochs: float | None = None, rdzv_timeout_s: float | None = None, keep_stop: bool = False,
           restart: bool = False, extra_steps: int | None = None) -> Any:
    """Resume a multi-process run with the same number of processes (its config.yaml's launch: section).
    keep_stop: a stop file already there is this segment's (the detached supervisor's; see torchrun_execute).
    restart: a run that failed before its first checkpoint starts again from step 0 in its folder, as
    core.training.resume's restart (after a fix is applied: core.advice, the window's Apply fix and restart).
    extra_epochs / extra_steps: more epochs, or more steps of a run max_steps caps, as core.training.resume."""
    from finetune_studio.core.training import resume as train_resume

    return train_resume(Path(run_dir), sink, stop, extra_epochs=extra_epochs, restart=restart,
                        execute=_executor(rdzv_timeout_s, keep_stop), extra_steps=extra_steps)


# Set by start_detached for the supervisor it starts: the stop file was cleared just before, so one there when the
# supervisor begins is a Stop pressed for it while it started. A `supervise` run without it (by hand) starts a
# segment nobody has asked to stop yet: a file there is an earlier segment's (a SIGKILLed supervisor's).
STOP_CLEARED_ENV = "FINETUNE_STUDIO_STOP_CLEARED"


def supervise(run_dir: Path, sink: Sink | None = None, stop: threading.Event | None = None,
              resume_run: bool = False, extra_epochs: float | None = None,
              rdzv_timeout_s: float | None = None, keep_stop: bool = True, restart: bool = False,
              extra_steps: int | None = None) -> Any:
    """The detached supervisor's body: train a run folder the window claimed (or resume one). With keep_stop, a
    stop file there is kept: the window cleared a stale one before starting this process (start_detached), so one
    there now is a Stop pressed since, while this process was still starting. Without it (a `supervise` run by
    hand, which start_detached did not clear for) a stop file there is an earlier segment's, one whose supervisor
    was SIGKILLed and so ran no clean-up: it goes first, else this segment stopped before its first step. However
    the supervisor ends (finished, stopped, failed before torchrun started, interrupted), the stop file goes with
    it (drop_stop_request). With resume_run and restart, a run with no complete checkpoint starts again from step 0
    (resume's restart: the window's Apply fix and restart of a run that failed before its first checkpoint)."""
    if not keep_stop:
        drop_stop_request(Path(run_dir))
    try:
        return _supervise(Path(run_dir), sink, stop, resume_run, extra_epochs, rdzv_timeout_s, restart, extra_steps)
    finally:
        drop_stop_request(Path(run_dir))


def drop_stop_request(run_dir: Path) -> None:
    """Remove the stop file of a segment that has ended, unless another process trains the folder now (the
    request is that run's). A Stop is only ever for the segment that trains: one left behind (the supervisor
    failed before torchrun read it, or the window wrote it as the run ended) would stop the next segment at its
    first step wherever nothing clears it first: a `supervise --resume` run by hand, or the torchrun lines of
    Copy launch command, whose rank 0 reads the file itself. Removed when the segment ends rather than ignored
    by age: a stop file's time and a rank's clock come from different machines in a multi-node run, and a Stop
    pressed while a supervisor starts is older than every rank yet must be obeyed. A SIGKILLed supervisor runs
    no clean-up: whatever starts the next segment clears the file first (start_detached, torchrun_execute, a
    `supervise` run by hand, and rank 0 of a torchrun line run by hand: core.cli)."""
    from finetune_studio.core.runs import run_busy

    if not run_busy(run_dir):
        clear_stop(run_dir)


def _supervise(run_dir: Path, sink: Sink | None, stop: threading.Event | None, resume_run: bool,
               extra_epochs: float | None, rdzv_timeout_s: float | None, restart: bool = False,
               extra_steps: int | None = None) -> Any:
    if resume_run:
        return resume(run_dir, sink, stop, extra_epochs, rdzv_timeout_s, keep_stop=True, restart=restart,
                      extra_steps=extra_steps)
    folder = RunFolder(Path(run_dir))
    with RunLock.acquire(folder.path):
        config, _ = load_config(folder.config_path)
        from finetune_studio.core.validation import validate

        problems = validate(config)
        if problems:
            _record_failure(folder, "; ".join(str(p) for p in problems), 0)
            raise ConfigError(problems)
        return torchrun_execute(config, folder, sink, stop or threading.Event(), None, False, rdzv_timeout_s,
                                keep_stop=True)


def _executor(rdzv_timeout_s: float | None, keep_stop: bool = False) -> Any:
    def execute(config: RunConfig, folder: RunFolder, sink: Sink | None, stop: threading.Event,
                checkpoint: Path | None, finish_only: bool) -> Any:
        return torchrun_execute(config, folder, sink, stop, checkpoint, finish_only, rdzv_timeout_s, keep_stop)

    return execute


def torchrun_execute(config: RunConfig, folder: RunFolder, sink: Sink | None, stop: threading.Event,
                     checkpoint: Path | None, finish_only: bool, rdzv_timeout_s: float | None = None,
                     keep_stop: bool = False) -> Any:
    """core.training's Executor for several processes: torchrun trains the claimed, locked folder; this process
    follows rank 0's metrics into `sink`, passes Stop on through the stop file, and records a failure by rank.
    A stop file left by an earlier segment is cleared first (it must not stop this one at its first step), unless
    keep_stop: the detached supervisor's starter cleared it before starting it, and a file there now is a Stop
    asked of this segment while it started (rank 0 reads it as training begins: every rank ends then, before the
    first step, nothing trained)."""
    from finetune_studio.core.training import train_in_folder

    if not keep_stop:
        clear_stop(folder.path)
    if finish_only:  # training had ended; only the final save is left, which one process does
        return train_in_folder(config, folder, sink, stop, checkpoint, True)
    rdzv_timeout_s = join_timeout(config, rdzv_timeout_s)
    clear_heartbeats(folder.path)
    endpoint = (config.launch.rdzv_endpoint or "").strip() or ONE_MACHINE_ENDPOINT
    command = local_command(config, folder.path, endpoint, checkpoint, rdzv_timeout_s)
    offset = folder.metrics_path.stat().st_size if folder.metrics_path.exists() else 0
    seen = _Seen(sink)
    waiting = rendezvous_phase(config, rdzv_timeout_s)
    # fix=None: a fix the status holds then is one rank 0 proposed in this segment (_failure_fix)
    folder.write_status("running", waiting["message"] if waiting else f"Starting {_processes(world_size(config))} "
                        "(torchrun)", name=config.name, processes=processes_per_node(config),
                        nodes=config.launch.nodes, fix=None)
    unknown = unresolved_endpoint(endpoint)
    if unknown:
        from finetune_studio.core.runs import NOTHING_LOST_TEXT
        from finetune_studio.core.training import never_trained

        # Not "start the run again as it is" (resume_advice's words for a rendezvous that timed out): as it is, it
        # fails the same way.
        message = unknown + (f" {NOTHING_LOST_TEXT}: start the run again once the endpoint is fixed (the same name "
                             "takes this folder over)." if checkpoint is None and never_trained(folder.path, False)
                             else _resume_hint(folder, config))
        status = folder.read_status()
        _record_failure(folder, message, _int(status.get("step")), _int(status.get("max_steps")))
        raise TrainingError(message)
    if waiting:
        seen(waiting)
    with open(folder.path / LAUNCH_LOG, "ab") as log:
        log.write(f"\n$ {shlex.join(command)}\n".encode())
        log.flush()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=launch_environment(config), start_new_session=True,
                                   preexec_fn=ends_with_this_process())
        tree = _Tree(process)
        left_waiting: list[bool] = []

        def watch() -> None:
            tree.remember()
            if waiting and not left_waiting and _stop_while_waiting(folder.path, stop):
                left_waiting.append(True)
                tree.end()  # follow sees torchrun gone at its next poll

        try:
            code = follow(folder.path, offset, process, seen, stop, watch=watch)
        finally:
            tree.end()  # Ctrl-C twice, a crash here: no rank is left running
    clear_stop(folder.path)
    if left_waiting:
        return _stopped_waiting(folder, endpoint, checkpoint, seen)
    if code == 0:
        status = folder.read_status()
        state = status.get("state")
        if state in ("finished", "stopped"):
            seen.release()
            return _ended_result(folder.path, status)
    failure = diagnose(folder.path, _log_tail(folder.path), world_size(config), code, endpoint, rdzv_timeout_s)
    fix = _failure_fix(folder, failure)
    # With a fix, the failing rank's own error ends with what to do ("Apply the fix to restart from checkpoint-2."):
    # the resume sentence after it ("Resume continues from checkpoint-2 with the same 2 training processes.") told
    # the user to go on as it is, and said a second thing. Without one, resuming is what is left.
    message = failure.message + ("" if fix else _resume_hint(folder, config))
    end = _record_failure(folder, message, seen.step, seen.max_steps, failed_rank=failure.rank,
                          end_written=seen.ended, log_path=folder.path / LAUNCH_LOG, offset=offset, fix=fix)
    seen.release(end)
    raise failed_with_fix(message, fix, folder.path)


def _stop_while_waiting(run_dir: Path, stop: threading.Event) -> bool:
    """A Stop (the caller's, or the stop file the window writes) while torchrun still waits at the rendezvous for the
    other machines: no rank has started (none wrote a heartbeat), so none will read the stop file. torchrun waited
    out join_timeout (300 s by default) and the run then failed with 'The machines never all met'."""
    from finetune_studio.core.distributed import stop_requested

    return (stop.is_set() or stop_requested(run_dir)) and not read_heartbeats(run_dir)


def _stopped_waiting(folder: RunFolder, endpoint: str, checkpoint: Path | None, seen: _Seen) -> Any:
    """The run stopped while it waited at the rendezvous: nothing trained in this segment, as a Stop before the
    first step (core.training's words for that), and its end event."""
    status = folder.read_status()
    step, max_steps = _int(status.get("step")), _int(status.get("max_steps"))
    where = f"Stopped while waiting for the other machines to join at {endpoint}"
    if checkpoint is None:
        message = (f"{where}: nothing was trained or saved. Start the run again as it is once every machine is ready "
                   "to start its line (the same name takes this folder over).")
    else:
        message = (f"{where}: the run is still at step {step}{f' of {max_steps}' if max_steps else ''}; Resume "
                   f"continues from {checkpoint.name}.")
    folder.write_status("stopped", message, step=step, max_steps=max_steps)
    end = {**EndEvent(event="end", state="stopped", message=message, step=step, max_steps=max_steps),
           "time": round(time.time(), 3)}
    log = MetricsLog(folder.metrics_path)
    try:
        log.append(end)
    finally:
        log.close()
    seen(end)
    return _ended_result(folder.path, folder.read_status())


def unresolved_endpoint(endpoint: str) -> str | None:
    """Why the endpoint's host name cannot be looked up here (a typo, a name only another network's DNS knows), in
    words with the fix; None when it resolves, is an address, or cannot be read (validation names that). Asked as
    torchrun starts, not by the checks (no DNS on their path): torchrun tried the name for its store's 60 s
    connect timeout, twice, whatever join_timeout said, and then said only that the store could not be reached
    (about two minutes for a name that does not exist)."""
    import ipaddress

    try:
        host, port = parse_endpoint(endpoint)
    except ValueError:
        return None
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        reason = exc.strerror or str(exc)
        return (f"The rendezvous endpoint {endpoint} names {host}, which this machine cannot look up ({reason}): no "
                "DNS server or hosts file here knows that name, so no machine could meet there and nothing trained. "
                f"To fix: write machine 0's IP address and the port in Rendezvous (launch.rdzv_endpoint), e.g. "
                f"192.168.1.10:{port}, or a name this machine finds (check with: getent hosts {host}).")
    except (OSError, UnicodeError):
        return None
    return None


def rendezvous_phase(config: RunConfig, rdzv_timeout_s: float | None = None) -> dict[str, Any] | None:
    """The phase event of a run of several machines while torchrun waits for them all, which can take minutes: what
    it waits for and what ends the wait. None for a run on one machine (its rendezvous is immediate)."""
    if not isinstance(config.launch.nodes, int) or config.launch.nodes <= 1:
        return None
    endpoint, seconds = (config.launch.rdzv_endpoint or "").strip(), join_timeout(config, rdzv_timeout_s)
    return {"event": "phase", "phase": "rendezvous", "time": time.time(),
            "message": f"Waiting for all {config.launch.nodes} machines to join at {endpoint} (up to {seconds:g} s): "
                       "start this run on the other machines with their lines (Copy launch command, or "
                       "finetune-studio launch-command)"}


class _Seen:
    """The sink between the metrics log and the caller's sink: remembers how far the run got and its end."""

    def __init__(self, sink: Sink | None):
        self.sink = sink
        self.step = 0
        self.max_steps = 0
        self.ended = False
        self.held: dict[str, Any] | None = None

    def __call__(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind in ("train_begin", "step"):
            self.step, self.max_steps = _int(event.get("step")), _int(event.get("max_steps"))
        elif kind == "run_start":
            self.ended = False
        elif kind == "end":
            self.ended = True
            if _failed_end(event):  # rank 0's: the supervisor says the run's end once it knows which rank failed
                self.held = event
                return
        if self.sink is not None:
            self.sink(event)

    def release(self, event: dict[str, Any] | None = None) -> None:
        """Say the failed end held back: `event` (the one that replaced it), else rank 0's own."""
        event = event or self.held
        self.held = None
        if event is not None and self.sink is not None:
            self.sink(event)


def _ended_result(run_dir: Path, status: dict[str, Any]) -> Any:
    """The RunResult of a finished or stopped run as its status.json records it. The model folder only for a
    finished one: status.json keeps the keys of earlier segments, so a run finished, resumed for more epochs and
    stopped still held the first finish's model_dir, and its stopped result named a model (the one-process result
    of the same stop names none)."""
    from finetune_studio.core.training import RunResult

    state = str(status.get("state"))
    model_dir = Path(status["model_dir"]) if state == "finished" and status.get("model_dir") else None
    return RunResult(state, str(status.get("message", "")), Path(run_dir), _int(status.get("step")),
                     _int(status.get("max_steps")), model_dir, status.get("train_loss"), status.get("eval_loss"))


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def follow(run_dir: Path, offset: int, process: Any, sink: Sink | None, stop: threading.Event | None = None,
           detach: threading.Event | None = None, watch: Any = None) -> int | None:
    """Forward the run's new metrics.jsonl events (from byte `offset`) to sink until `process` exits; a set `stop`
    becomes the stop file once. Returns the exit code, or None when `detach` was set (the run goes on)."""
    path = RunFolder(Path(run_dir)).metrics_path
    start = offset
    asked = False
    held: dict[str, Any] | None = None  # rank 0's failed end, said once the process has ended (see below)
    while True:
        done = process.poll() is not None
        events, offset = read_metrics(path, offset)
        for event in events:
            if not isinstance(event, dict) or sink is None:
                continue
            if _failed_end(event):
                # When another rank failed first, rank 0 fails in its next collective and writes that error
                # ("Connection closed by peer", advice about the model), and the supervisor then puts the failing
                # rank's own error in its place (_record_failure): only the end the file holds last is said.
                held = event
                continue
            if held is not None:
                sink(held)
                held = None
            sink(event)
        if done:
            if held is not None:
                sink(_last_end(path, start) or held)
            return int(process.returncode)
        if stop is not None and stop.is_set() and not asked:
            request_stop(Path(run_dir))
            asked = True
        if detach is not None and detach.is_set():
            return None
        if watch is not None:
            watch()
        time.sleep(POLL_S)


# ---------------------------------------------------------------------------------------------- failures
@dataclass
class Failure:
    rank: int | None  # None: no rank ran (the rendezvous never completed, torchrun could not start)
    message: str
    fix: dict[str, Any] | None = None  # the failing rank's own proposed fix (advice.Fix.to_dict), from its heartbeat


_FAILURE = re.compile(r"rank\s*:\s*(\d+)\s*\(local_rank[^\n]*\n\s*exitcode\s*:\s*(-?\d+)")


def diagnose(run_dir: Path, log_text: str, world: int, code: int | None, endpoint: str = "",
             rdzv_timeout_s: float = RDZV_TIMEOUT_S) -> Failure:
    """Which rank failed and why, in words: torchrun's own root cause (its summary in launch.log) first, then
    the ranks' heartbeats (a rank that wrote an error, or one whose process vanished without a word)."""
    beats = read_heartbeats(Path(run_dir))
    if not beats and ("RendezvousTimeoutError" in log_text or "RendezvousClosedError" in log_text):
        try:
            loopback = is_loopback(parse_endpoint(endpoint)[0])
        except ValueError:
            loopback = False
        where = (f" {endpoint} is this machine's own address, which other machines cannot reach: give machine 0's "
                 "network address instead (e.g. 192.168.1.10:29500) unless every node runs here."
                 if loopback else "")
        return Failure(None, f"The machines never all met: torchrun waited {rdzv_timeout_s:g} s at {endpoint} "
                             "for every node to join, and not all did, so nothing trained. Start the launch "
                             "command on every machine (Copy launch command), check that the first machine's "
                             f"address and port are reachable from the others (firewall), then start again.{where}")
    if not beats and "RendezvousConnectionError" in log_text:
        return Failure(None, _unreachable_store(endpoint))
    rank, exit_code = None, None
    # torchrun's summary lists every failed rank, its root cause ("first observed") last. A rank killed by a
    # signal (not the SIGTERM torchrun ends the others with) is the cause: the others then fail in a collective.
    summary = log_text[log_text.rfind("Failures:"):] if "Failures:" in log_text else log_text
    failures = [(int(r), int(c)) for r, c in _FAILURE.findall(summary)]
    killed = [(r, c) for r, c in failures if c < 0 and -c != signal.SIGTERM]
    if killed or failures:
        rank, exit_code = (killed or failures[-1:])[0]
    if rank is None:
        failed = sorted((b.get("updated", 0), r) for r, b in beats.items() if b.get("state") == "failed")
        vanished = [r for r, b in sorted(beats.items())
                    if b.get("state") not in ("finished", "stopped", "failed", TERMINATED)]
        rank = failed[0][1] if failed else (vanished[0] if vanished else None)
    if rank is None:
        steps = [b["step"] for b in beats.values() if isinstance(b.get("step"), int) and b["step"] > 0]
        at = f" at step {max(steps)}" if steps else ""
        if code is not None and code < 0:  # torchrun itself was killed: its ranks ended with it, none failed
            name = _signal_name(-code)
            how = " — by the out-of-memory killer, or a kill command" if -code == signal.SIGKILL else ""
            return Failure(None, f"torchrun, which ran the training processes, was killed ({name}){at}{how}; its "
                                 "processes ended with it. See launch.log in the run folder.")
        tail = log_text.strip().splitlines()[-1] if log_text.strip() else f"exit code {code}"
        if beats:  # they started (each wrote its heartbeat): the last log line is not why they ended
            return Failure(None, f"The training processes ended{at} without an error of their own (torchrun exit "
                                 f"code {code}). See launch.log in the run folder.")
        return Failure(None, f"The training processes could not start (torchrun: {tail}). See launch.log in the "
                             "run folder.")
    beat = beats.get(rank, {})
    where = f" (pid {beat['pid']} on {beat['host']})" if beat.get("pid") and beat.get("host") else ""
    at = f" at step {beat['step']}" if beat.get("step") else ""
    if beat.get("state") == "failed" and beat.get("error"):
        cause = str(beat["error"])
    elif exit_code is not None and exit_code < 0:
        name = _signal_name(-exit_code)
        cause = (f"its process was killed ({name})" + (" — by the out-of-memory killer, or a kill command"
                                                        if -exit_code == signal.SIGKILL else ""))
    else:
        cause = f"its process ended with exit code {exit_code if exit_code is not None else code}"
    cause = cause.strip()
    end = "" if cause.endswith((".", "!", "?")) else "."  # a rank's own error is a sentence already
    fix = beat.get("fix") if beat.get("state") == "failed" and isinstance(beat.get("fix"), dict) else None
    return Failure(rank, f"Rank {rank} of {world}{where} failed{at}: {cause}{end}", fix)


def _failure_fix(folder: RunFolder, failure: Failure) -> dict[str, Any] | None:
    """The fix the failing rank proposed for its own error: from its heartbeat (worker_main writes it there, as rank 0
    leaves the run's status to the supervisor when a peer had failed first, and no other rank writes one), else,
    when rank 0 failed, the one rank 0 wrote in the status in this segment (torchrun_execute cleared it as the
    segment began). None for a failure no rank of which proposed one."""
    if failure.fix is not None or failure.rank != 0:
        return failure.fix
    status = folder.read_status()
    fix = status.get("fix") if status.get("state") == "failed" else None
    return fix if isinstance(fix, dict) else None


def failed_with_fix(message: str, fix: dict[str, Any] | None, run_dir: Path) -> TrainingError:
    """The supervisor's TrainingError, carrying the failing rank's proposed fix as core.advice.OutOfMemoryFailure
    does (`fix`, a core.advice.Fix, and `run_dir`, where to apply it), so that every caller (the CLI's fix lines and
    its --apply-fix command, the window) has it without reading status.json again."""
    from finetune_studio.core.advice import Fix

    error = TrainingError(message)
    error.fix = Fix.from_dict(fix) if fix else None  # type: ignore[attr-defined]
    error.run_dir = Path(run_dir)  # type: ignore[attr-defined]
    return error


def _unreachable_store(endpoint: str) -> str:
    """torchrun's RendezvousConnectionError in words: this machine's torchrun found no rendezvous store at the
    endpoint. Machine 0 (node_rank 0) hosts the store and reaches it at the endpoint, so there an endpoint that is
    not one of its addresses is the cause; it was said as 'The training processes could not start (torchrun:
    torch.distributed.elastic.rendezvous.api.RendezvousConnectionError: The connection to the C10d store has
    failed. …)'."""
    try:
        host = parse_endpoint(endpoint)[0]
    except ValueError:
        host = ""
    reach = (f"start machine 0's launch command first, and check that {endpoint} is reachable from here "
             "(firewall)")
    if host and not is_this_machine(host):
        hint = (f"{host} is not one of this machine's names or addresses. To fix: if this is machine 0 "
                "(node_rank 0), which hosts the rendezvous, give one of its own addresses in launch.rdzv_endpoint; on "
                f"any other machine, set launch.node_rank to its number (1 and up), {reach}.")
    else:
        hint = f"To fix: {reach}."
    return f"This machine could not reach the rendezvous store at {endpoint}, so nothing trained. {hint}"


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _log_tail(run_dir: Path, size: int = 64_000) -> str:
    path = Path(run_dir) / LAUNCH_LOG
    try:
        with open(path, "rb") as handle:
            handle.seek(max(0, path.stat().st_size - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _resume_hint(folder: RunFolder, config: RunConfig) -> str:
    from finetune_studio.core.training import resume_advice

    return resume_advice(folder, config, f" with the same {_processes(world_size(config))}")


def _processes(count: int) -> str:
    return "1 training process" if count == 1 else f"{count} training processes"


def _record_failure(folder: RunFolder, message: str, step: int, max_steps: int = 0, failed_rank: int | None = None,
                    end_written: bool = False, log_path: Path | None = None, offset: int | None = None,
                    fix: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The run's failed status and its end event in metrics.jsonl, both with `message`: what every reader shows.
    Where rank 0 wrote a failed end of its own (end_written; this segment's log starts at byte `offset`), the
    supervisor's end is appended after it, and every reader takes a segment's last end (core.metrics' tally, the
    followers): when another rank failed first, rank 0 failed in its next collective, and its end said that error
    ("Connection closed by peer … Check the model … and the data it was fed") where the run's status named rank 1's
    own, so the window's log and the Runs tab showed the wrong error beside the right one. (core.training leaves
    that end to the supervisor when it can tell; this covers the rest.) The log stays append-only: the line was
    once rewritten in place, which a reader mid-file had to start over for. Returns the end event the log now ends
    with (None when it could not be written). `fix`: the failing rank's own proposed fix (_failure_fix), recorded in
    both; without one, rank 0's own fix stays only when rank 0 was the cause."""
    own = failed_rank == 0
    fixed = {"fix": fix} if fix is not None else {} if own else {"fix": None}
    folder.write_status("failed", message, step=step, max_steps=max_steps, failed_rank=failed_rank,
                        **fixed, **({"log": str(log_path)} if log_path else {}))
    end = {**EndEvent(event="end", state="failed", message=message, step=step, max_steps=max_steps,
                      error_type="RankFailed"), "time": round(time.time(), 3), **({"fix": fix} if fix else {})}
    if end_written:
        if offset is None:
            return None
        written = _last_end(folder.metrics_path, offset)
        if written is None or not _failed_end(written):
            return None
        if written.get("message") == message and written.get("failed_rank") == failed_rank and (
                fix is None or written.get("fix") == fix):
            return written
        # Rank 0's own fields stay (its step, elapsed time); its fix only when rank 0 was the cause (a fix for a
        # peer's vanishing would mislead), else the failing rank's own.
        end = {**written, "message": message, "time": end["time"]}
        if not own:
            end.pop("fix", None)
            end["error_type"] = "RankFailed"
        if fix is not None:
            end["fix"] = fix
    if failed_rank is not None:
        end["failed_rank"] = failed_rank
    try:
        log = MetricsLog(folder.metrics_path)
        try:
            log.append(end)
        finally:
            log.close()
    except OSError:
        return None  # the disk is full: the status above (if it fit) says why
    return end


def _failed_end(event: dict[str, Any]) -> bool:
    return event.get("event") == "end" and event.get("state") == "failed"


def _last_end(path: Path, start: int) -> dict[str, Any] | None:
    """The last end event of metrics.jsonl from byte `start` (one segment's)."""
    ends = [e for e in read_metrics(path, start)[0] if isinstance(e, dict) and e.get("event") == "end"]
    return ends[-1] if ends else None


# ---------------------------------------------------------------------------------------------- process tree
class _Tree:
    """torchrun and every process under it (the ranks run in sessions of their own, so a process group alone
    does not reach them): remembered while it runs, ended when it is over."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.pids: dict[int, float] = {}  # pid -> its start time, so a reused pid is never killed
        self._last = 0.0

    def remember(self) -> None:
        if time.monotonic() - self._last < 1.0:
            return
        self._last = time.monotonic()
        try:
            import psutil

            for child in psutil.Process(self.process.pid).children(recursive=True):
                self.pids.setdefault(child.pid, child.create_time())
        except Exception:  # noqa: BLE001 - psutil missing or the tree just ended: the heartbeats still name pids
            pass

    def end(self) -> None:
        self.remember()
        if self.process.poll() is None:
            _signal_group(self.process.pid, signal.SIGTERM)  # torchrun ends its ranks on SIGTERM
            try:
                self.process.wait(TERMINATE_GRACE_S)
            except subprocess.TimeoutExpired:
                _signal_group(self.process.pid, signal.SIGKILL)
                self.process.wait()
        kill_leftovers(self.pids)


def ends_with_this_process() -> Any:
    """A Popen preexec_fn: the child (torchrun) gets SIGTERM when this process ends, however it ends. A SIGKILLed
    supervisor runs no clean-up, and torchrun, in a session of its own, would train on with nobody following it;
    on SIGTERM torchrun ends its ranks (which also end with torchrun: core.distributed.worker_main). None where
    the platform has no parent-death signal (the clean-up in torchrun_execute still runs on any other end)."""
    set_signal = parent_death_signal()
    if set_signal is None:
        return None
    parent = os.getpid()

    def preexec() -> None:
        die_with_parent(signal.SIGTERM, parent, set_signal)

    return preexec


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def kill_leftovers(pids: dict[int, float], grace_s: float = 5.0) -> list[int]:
    """End the processes in pids (pid -> start time) that still run the same program; returns those that did."""
    try:
        import psutil
    except ImportError:
        return []
    alive = []
    for pid, started in pids.items():
        try:
            proc = psutil.Process(pid)
            if abs(proc.create_time() - started) < 1.0:
                alive.append(proc)
        except psutil.Error:
            continue
    for proc in alive:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, still = psutil.wait_procs(alive, timeout=grace_s)
    for proc in still:
        try:
            proc.kill()
        except psutil.Error:
            pass
    return [proc.pid for proc in alive]


# ---------------------------------------------------------------------------------------------- the window's side
def supervisor_command(run_dir: Path, resume_run: bool = False, extra_epochs: float | None = None,
                       restart: bool = False, extra_steps: int | None = None) -> list[str]:
    command = [sys.executable, "-m", "finetune_studio.core.cli", "supervise", str(run_dir)]
    if resume_run:
        command.append("--resume")
        if restart:
            command.append("--restart")
    if extra_epochs:
        command += ["--epochs", f"{extra_epochs:g}"]
    if extra_steps:
        command += ["--steps", str(extra_steps)]
    return command


def claim(config: RunConfig) -> RunFolder:
    """Validate and claim a new run folder with config.yaml in it, as core.training.run does, for a supervisor
    to train (the window starts the supervisor, then follows the folder)."""
    from finetune_studio.core.training import new_run_folder
    from finetune_studio.core.validation import validate

    problems = validate(config, render_rows=True)  # as core.training.run: chat rows that train nothing, here
    if problems:
        raise ConfigError(problems)
    config, folder = new_run_folder(config)
    save_config(config, folder.config_path)
    folder.write_status("running", f"Starting {_processes(world_size(config))}", name=config.name,
                        model=config.model.name_or_path, dataset=config.dataset.source)
    return folder


def start_detached(run_dir: Path, resume_run: bool = False, extra_epochs: float | None = None,
                   restart: bool = False, extra_steps: int | None = None) -> subprocess.Popen:
    """Start the supervisor of run_dir in a session of its own: the run outlives the window that started it. A stop
    file left by an earlier segment (a supervisor that crashed) is cleared first, before the caller can ask this
    segment to stop; the supervisor keeps one written after (supervise). resume_run with restart: a run with no
    complete checkpoint starts again from step 0 (supervise)."""
    run_dir = Path(run_dir)
    clear_stop(run_dir)
    log = open(run_dir / LAUNCH_LOG, "ab")
    try:
        return subprocess.Popen(supervisor_command(run_dir, resume_run, extra_epochs, restart, extra_steps), stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, "PYTHONUNBUFFERED": "1", STOP_CLEARED_ENV: "1"})
    finally:
        log.close()


def start_and_follow(config: RunConfig, sink: Sink, stop: threading.Event,
                     detach: threading.Event | None = None) -> Any:
    """The window's Start for several processes: claim the folder, start its supervisor detached, follow it."""
    folder = claim(config)
    process = start_detached(folder.path)
    return _follow_to_result(folder, 0, process, sink, stop, detach)


def resume_and_follow(run_dir: Path, sink: Sink, stop: threading.Event, extra_epochs: float | None = None,
                      detach: threading.Event | None = None, restart: bool = False,
                      extra_steps: int | None = None) -> Any:
    """The window's Resume (or Continue) of a multi-process run: the same number of processes, detached. restart:
    a run with no complete checkpoint starts again from step 0 in its folder (the window's Apply fix and restart,
    as core.advice.apply_fix_and_resume restarts a run of one process); its metrics.jsonl is appended to."""
    from finetune_studio.core.runs import run_busy

    folder = RunFolder(Path(run_dir))
    busy = run_busy(folder.path)
    if busy:
        raise FinetuneError(busy)
    offset = folder.metrics_path.stat().st_size if folder.metrics_path.exists() else 0
    process = start_detached(folder.path, True, extra_epochs, restart, extra_steps)
    return _follow_to_result(folder, offset, process, sink, stop, detach)


def _follow_to_result(folder: RunFolder, offset: int, process: subprocess.Popen, sink: Sink,
                      stop: threading.Event, detach: threading.Event | None) -> Any:
    from finetune_studio.core.training import RunResult

    try:
        waiting = rendezvous_phase(load_config(folder.config_path)[0])  # the supervisor's wait, said here too
    except (ConfigError, OSError):
        waiting = None  # the supervisor says what is wrong with it
    if waiting:
        sink(waiting)
    code = follow(folder.path, offset, process, sink, stop, detach)
    if code is not None:  # a Stop written as the supervisor ended, after its own clean-up: not the next segment's
        drop_stop_request(folder.path)
    status = folder.read_status()
    state = str(status.get("state"))
    if code is None:
        return RunResult("running", f"{folder.path.name} goes on training in the background.", folder.path,
                         _int(status.get("step")), _int(status.get("max_steps")))
    if state in ("finished", "stopped"):
        return _ended_result(folder.path, status)
    if state == "failed":  # the supervisor's failure, with the fix it recorded (its TrainingError's, in words)
        from finetune_studio.core.advice import recorded_fix

        fix = recorded_fix(folder.path)
        raise failed_with_fix(str(status.get("message")), fix.to_dict() if fix else None, folder.path)
    tail = _log_tail(folder.path, 4000).strip().splitlines()
    message = (f"The run's supervisor ended (exit code {code}) without finishing the run: "
               f"{tail[-1] if tail else 'no output'}. See {folder.path / LAUNCH_LOG}.")
    _record_failure(folder, message, _int(status.get("step")), _int(status.get("max_steps")))
    raise TrainingError(message)


def stoppable_run(run_dir: Path) -> bool:
    """A multi-process run that trains now (its supervisor alive) and has not been asked to stop: a window that
    only follows it (reopened after the one that started it closed) can still Stop it, through the stop file."""
    from finetune_studio.core.distributed import stop_requested

    folder = RunFolder(Path(run_dir))
    return (folder.read_status().get("state") == "running" and run_uses_torchrun(folder.path)
            and not stop_requested(folder.path))


def run_uses_torchrun(run_dir: Path) -> bool:
    """Whether the run in run_dir was configured for several processes (its Resume uses torchrun too)."""
    try:
        config, _ = load_config(RunFolder(Path(run_dir)).config_path)
    except (ConfigError, OSError):
        return False
    return uses_torchrun(config)
