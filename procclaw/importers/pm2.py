"""Reading pm2 apps: an ecosystem file in JSON (`{"apps": [...]}`) or what `pm2 jlist`
prints (the running processes, each with its `pm2_env`).

Both are read into the ecosystem's keys first, so one mapping serves them. Defaults are
pm2's (16 restarts, 1 s of min_uptime, 1.6 s to stop), so an app behaves here as it
did there. `instances: N` gives N jobs; `cron_restart` a scheduled job that restarts it.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

from procclaw.importers.imported import (
    Imported,
    ImportedJob,
    ImportRefused,
    job_id,
    restart_job,
    seconds_text,
)

# The interpreter pm2 picks by the script's extension when none is given.
_INTERPRETERS = {
    ".js": "node", ".cjs": "node", ".mjs": "node", ".py": "python", ".sh": "bash",
    ".rb": "ruby", ".php": "php", ".pl": "perl", ".coffee": "coffee",
}  # fmt: skip
_NO_EQUIVALENT = {
    "watch": "ProcClaw does not restart a job when its files change",
    "ignore_watch": "ProcClaw does not restart a job when its files change",
    "wait_ready": "readiness is `ready: notify` (sd_notify), not process.send('ready')",
    "listen_timeout": "readiness is `ready: notify` (sd_notify), not process.send('ready')",
    "shutdown_with_message": "a job is stopped with a signal (shutdown.signal)",
    "log_date_format": "log.timestamps writes UTC times in one format",
    "merge_logs": "each instance is a job with logs of its own",
    "combine_logs": "each instance is a job with logs of its own",
    "source_map_support": "ProcClaw runs any program, not node in particular",
    "increment_var": "each instance is a job: give each its own env",
    "instance_var": "each instance is a job: give each its own env",
    "vizion": "ProcClaw keeps no version control metadata",
    "max_restarts_window": "a run lasting retry.reset_after starts the count over",
}
_MAPPED = {
    "name", "script", "args", "interpreter", "interpreter_args", "node_args", "cwd", "env",
    "instances", "exec_mode", "autorestart", "max_restarts", "min_uptime", "restart_delay",
    "exp_backoff_restart_delay", "kill_timeout", "cron_restart", "max_memory_restart",
    "out_file", "error_file", "log_file", "namespace", "time", "disabled",
}  # fmt: skip
# jlist's pm2_env -> the ecosystem key it holds. The rest of pm2_env is run state.
_JLIST_KEYS = {
    "pm_exec_path": "script", "pm_cwd": "cwd", "exec_interpreter": "interpreter",
    "args": "args", "node_args": "node_args", "exec_mode": "exec_mode",
    "autorestart": "autorestart", "max_restarts": "max_restarts", "min_uptime": "min_uptime",
    "restart_delay": "restart_delay", "exp_backoff_restart_delay": "exp_backoff_restart_delay",
    "kill_timeout": "kill_timeout", "cron_restart": "cron_restart",
    "max_memory_restart": "max_memory_restart", "pm_out_log_path": "out_file",
    "pm_err_log_path": "error_file", "namespace": "namespace", "watch": "watch",
}  # fmt: skip
# What a shell gives every process: pm2 jlist shows a process's whole environment.
_SHELL_VARIABLES = re.compile(
    r"(PATH|HOME|USER|LOGNAME|SHELL|PWD|OLDPWD|TERM|SHLVL|LANG|LC_\w+|_|MAIL|HOSTNAME|"
    r"SSH_\w+|XDG_\w+|DISPLAY|LS_COLORS|COLORTERM|TERM_\w+|PM2_\w+|pm_\w+|unique_id|NODE_APP_INSTANCE)"
)


def read_pm2(path: Path) -> Imported:
    """The jobs of the apps in `path`."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ImportRefused(f"cannot read {path}: {err.strerror or err}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        hint = ""
        if path.suffix in (".js", ".cjs", ".mjs"):
            hint = " (an ecosystem.config.js is JavaScript: save `pm2 jlist` output instead)"
        raise ImportRefused(f"{path} is not JSON: {err}{hint}") from None
    result = Imported()
    for app in _apps(data, path):
        _app(app, result)
    return result


def _apps(data: Any, path: Path) -> list[dict[str, Any]]:
    """The ecosystem apps, from either format."""
    if isinstance(data, dict) and isinstance(data.get("apps"), list):
        apps = data["apps"]
    elif isinstance(data, list) and all(isinstance(p, dict) and "pm2_env" in p for p in data):
        apps = _from_jlist(data)
    else:
        raise ImportRefused(
            f'{path}: expected an ecosystem file ({{"apps": [...]}}) or `pm2 jlist` output'
        )
    for index, app in enumerate(apps):
        if not isinstance(app, dict) or not (app.get("script") or app.get("name")):
            raise ImportRefused(f"{path}: app {index + 1} has no script")
    return apps


def _from_jlist(processes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One app per name: pm2 lists each instance of an app as a process of its own."""
    apps: dict[str, dict[str, Any]] = {}
    for process in processes:
        env = process["pm2_env"]
        name = str(process.get("name") or env.get("name"))
        if name in apps:
            apps[name]["instances"] += 1
            continue
        app = {key: env[source] for source, key in _JLIST_KEYS.items() if source in env}
        app.update(name=name, instances=1)
        own = {k: v for k, v in (env.get("env") or {}).items() if not _SHELL_VARIABLES.fullmatch(k)}
        if own:
            app["env"] = own
        apps[name] = app
    return list(apps.values())


def _app(app: dict[str, Any], result: Imported) -> None:
    name = str(app.get("name") or Path(str(app["script"])).stem)
    for key in app:
        if key in _NO_EQUIVALENT:
            result.warn(name, key, _NO_EQUIVALENT[key])
        elif key.startswith("env_"):
            result.warn(name, key, "only `env` is imported; add the others by hand")
        elif key not in _MAPPED:
            result.warn(name, key, "not a pm2 app key ProcClaw knows: left out")
    count = _instances(name, app.get("instances", 1), result)
    if app.get("exec_mode") in ("cluster", "cluster_mode") and count > 1:
        result.warn(name, "exec_mode", "no cluster mode: each instance is a job of its own")
    body = _body(name, app, result)
    for number in range(count):
        job = ImportedJob(job_id(name if count == 1 else f"{name}-{number}"), dict(body))
        job.notes.append(f"pm2 app '{name}'" + (f", instance {number}" if count > 1 else ""))
        result.jobs.append(job)
        if app.get("cron_restart"):
            result.jobs.append(restart_job(job, _cron(str(app["cron_restart"])), "pm2"))


def _instances(name: str, value: Any, result: Imported) -> int:
    if isinstance(value, int) and value >= 1:
        return value
    result.warn(name, "instances", f"{value!r} depends on the machine: imported as 1 job")
    return 1


def _body(name: str, app: dict[str, Any], result: Imported) -> dict[str, Any]:
    body: dict[str, Any] = {"cmd": _command(app)}
    if app.get("cwd"):
        body["cwd"] = str(app["cwd"])
    body["type"] = "continuous"
    body["restart"] = "always" if app.get("autorestart", True) else "never"
    if app.get("disabled"):
        body["enabled"] = False
    if app.get("namespace") and app["namespace"] != "default":
        body["tags"] = [str(app["namespace"])]
    if app.get("env"):
        body["env"] = {str(k): _env_value(v) for k, v in app["env"].items()}
        result.warn_clear_secrets(name, body["env"])
    body["retry"] = _retry(app)
    kill_timeout = _milliseconds(name, app.get("kill_timeout", 1600))
    body["shutdown"] = {"grace_period": seconds_text(kill_timeout)}
    if app.get("max_memory_restart"):
        body["limits"] = {"memory": _memory(app["max_memory_restart"])}
    if app.get("time"):
        body["log"] = {"timestamps": True}
    for key, stream in (("out_file", "log"), ("error_file", "error.log"), ("log_file", "log")):
        if app.get(key):
            result.warn(name, key, f"output goes to logs/<job>.{stream} under PROCCLAW_HOME")
    return body


def _command(app: dict[str, Any]) -> list[str]:
    script = str(app.get("script") or app["name"])
    args = app.get("args") or []
    words = shlex.split(args) if isinstance(args, str) else [str(a) for a in args]
    interpreter = app.get("interpreter") or _INTERPRETERS.get(Path(script).suffix)
    if interpreter in (None, "none"):
        return [script, *words]
    options = app.get("interpreter_args") or app.get("node_args") or []
    if isinstance(options, str):
        options = shlex.split(options)
    return [str(interpreter), *map(str, options), script, *words]


def _retry(app: dict[str, Any]) -> dict[str, Any]:
    if not app.get("autorestart", True):
        return {"preset": "none"}
    retry: dict[str, Any]
    if app.get("exp_backoff_restart_delay"):  # pm2: times 1.5 each time, at most 15 s
        initial = _milliseconds(str(app.get("name")), app["exp_backoff_restart_delay"])
        retry = {"preset": "exponential", "initial": seconds_text(initial), "factor": 1.5}
        retry["max_delay"] = "15s"
    else:
        delay = _milliseconds(str(app.get("name")), app.get("restart_delay", 0))
        retry = {"preset": "fixed", "delay": seconds_text(delay)}
    retry["max_attempts"] = int(app.get("max_restarts", 16))
    min_uptime = _milliseconds(str(app.get("name")), app.get("min_uptime", 1000))
    retry["reset_after"] = seconds_text(min_uptime)
    return retry


def _milliseconds(name: str, value: Any) -> float:
    """pm2's times: a number of milliseconds, or a string like '2000', '5s', '1m', '1h'."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value / 1000
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*", str(value))
    if match is None:
        raise ImportRefused(f"program '{name}': expected a time like 2000 or '5s', got {value!r}")
    per_unit = {None: 0.001, "ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return float(match.group(1)) * per_unit[match.group(2)]


def _memory(value: Any) -> str | int:
    """pm2's max_memory_restart ('300M', '1G', '200K', or bytes) as a limits.memory."""
    return value if isinstance(value, int) else str(value).strip().upper()


def _cron(spec: str) -> str:
    """pm2's cron (node-cron: six fields put seconds first) in ours (seconds last)."""
    fields = spec.split()
    return " ".join([*fields[1:], fields[0]]) if len(fields) == 6 else spec


def _env_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if value is not None else ""
