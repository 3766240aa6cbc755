"""The commented config files that `procclaw init` writes.

They double as the reference a user reads first, so every option appears, live where
the value shown is the default and commented out where it is only an example.
"""

from procclaw.config.models import OPENCLAW_GATEWAY_PORT, local_gateway_url

_SETTINGS = """\
# ProcClaw settings: the daemon, the HTTP API, what jobs inherit, OpenClaw.
# Every key is optional and the values shown are the defaults.
# The jobs themselves live in jobs.yaml, next to this file.

daemon:
  # Address of the HTTP API; keep 127.0.0.1 unless other machines must reach it.
  host: 127.0.0.1
  port: 9876
  log_level: INFO            # DEBUG | INFO | WARNING | ERROR
  # supervisors: 2           # processes that hold the jobs (default: one per CPU core,
  #                          # at least two); a job with `isolate: true` gets its own

api:
  auth:
    # When enabled, requests need the header "Authorization: Bearer <token>".
    enabled: false
    # token: "a-long-random-string"     # or ${secret:NAME}, or instead:
    # token_file: ~/.config/procclaw/api-token
    # metrics: false                     # let Prometheus scrape /metrics without a token

# What every job gets unless it sets the key itself.
defaults:
  retry:
    # webhook waits 0s, 30s, 5m, 15m, 1h between attempts, then gives up.
    # Other presets: fixed (delay), exponential (initial, factor, max_delay, jitter)
    # and none; or, instead of a preset, your own list: delays: [0, 10s, 1m]
    preset: webhook
    # max_attempts: 5        # null restarts for ever
    # reset_after: 60        # a run this long forgets the failures before it
  shutdown:
    grace_period: 60         # seconds between the stop signal and SIGKILL
    signal: SIGTERM
  health_check:
    # process (is it still running?); a job can use http or file with its own url/path.
    type: process
    interval: 60
    timeout: 10
    retries: 3               # failed checks in a row before the job counts as unhealthy
    start_period: 0          # grace after start before failed checks count
  log:
    max_bytes: 10MB          # rotate a job's log at this size
    backups: 5               # rotated files to keep
    timestamps: false        # prefix each line with the time it was written
  # What a job may use (none by default; a job's own limits override these key by key).
  # limits:
  #   nofile: 4096           # open files; nproc: processes; core: core dump size (0: none)
  # Time zone for schedules; without one, the system's zone is used.
  # timezone: Europe/Berlin

openclaw:
  enabled: true
  # A short note per alert in the agent's memory/YYYY-MM-DD.md (never MEMORY.md).
  memory_logging: true
  # workspace: ~/.openclaw/workspace   # else OpenClaw's own (openclaw.json, then
  #                                     # $OPENCLAW_WORKSPACE_DIR, then its state dir)
  alerts:
    enabled: true
    channels: []
    # channels: [whatsapp, telegram]
    # targets:                 # who gets them, per channel; quote phone numbers
    #   whatsapp: "+15555550123"
    #   telegram: "@my_ops_chat"
    on: [failed, unhealthy, recovered, dependency_timeout, missed, limit]
    window: 5m                 # one alert per job per window; the rest fold into one
    retry_delays: [2s, 10s, 1m]
    wake: false                # also wake the agent (POST /hooks/wake; needs hooks_token)
  # Used when the openclaw CLI is not on PATH (and for wake).
  gateway:
    url: {gateway_url}
    # token: ${secret:OPENCLAW_GATEWAY_TOKEN}   # else $OPENCLAW_GATEWAY_TOKEN
    # hooks_token: ${secret:OPENCLAW_HOOKS_TOKEN}   # OpenClaw's hooks.token
"""


def settings_template(gateway_port: int = OPENCLAW_GATEWAY_PORT) -> str:
    """procclaw.yaml, its `openclaw.gateway.url` on the gateway's port."""
    return _SETTINGS.replace("{gateway_url}", local_gateway_url(gateway_port))


SETTINGS_TEMPLATE = settings_template()

JOBS_TEMPLATE = """\
# ProcClaw jobs, keyed by id. An id uses letters, digits, '-' and '_'; it names the
# job in the CLI and its log files. Check your edits with: procclaw config --validate
# Jobs inherit retry, shutdown, health_check, log and limits from defaults in
# procclaw.yaml.

jobs:
  # Runs when you ask for it: procclaw start hello
  hello:
    name: Hello
    cmd: echo "hello from procclaw"
    type: manual

  # Runs all the time and is restarted if it stops.
  clock:
    name: Clock
    cmd: while true; do date; sleep 10; done
    shell: true                # run cmd through /bin/sh; cmd must then be a string
    type: continuous
    tags: [sample]

  # A scheduled job: cron fields are minute hour day-of-month month day-of-week,
  # or one of @hourly @daily @weekly @monthly @yearly.
  # report:
  #   name: Daily Report
  #   cmd: [python, report.py, --since, 1d]
  #   cwd: ~/scripts/report
  #   type: scheduled
  #   schedule: "0 */12 * * *"
  #   timezone: America/Sao_Paulo    # else defaults.timezone, else the system's zone
  #   on_overlap: skip               # skip | queue | kill_restart, if the last run is still on

  # A job that waits for another, with a secret in its environment. A secret may
  # appear in env but never in cmd, where every local user could read it.
  # notifier:
  #   cmd: python notify.py
  #   depends_on:
  #     - job: clock
  #       condition: after_start     # after_start | after_complete | before_complete
  #       timeout: 60                # seconds to wait for the condition
  #   env:
  #     LOG_LEVEL: info
  #     DATA_DIR: ${HOME}/data
  #     API_KEY: ${secret:NOTIFY_API_KEY}   # stored with: procclaw secret set NOTIFY_API_KEY

  # A service with an HTTP health check and every other option spelled out.
  # api:
  #   name: API Server
  #   cmd: uvicorn main:app --port 8000
  #   cwd: ~/projects/api
  #   type: continuous
  #   enabled: true
  #   tags: [web]
  #   ready: notify                  # ready once it sends READY=1 on $NOTIFY_SOCKET
  #   on_dependency_failure: stop    # keep_running (default) | stop
  #   health_check:
  #     type: http                   # process | http | file (path, max_age) | watchdog
  #                                  # | output (pattern, max_age: a line that says alive)
  #     url: http://localhost:8000/health
  #     expected_status: 200
  #     expected_body: ok
  #     interval: 30s
  #     timeout: 10s
  #     retries: 3
  #     start_period: 15s
  #   retry:
  #     preset: exponential          # webhook | fixed | exponential | none
  #     initial: 1s
  #     factor: 2
  #     max_delay: 5m
  #     jitter: 0.1
  #     max_attempts: null           # no limit
  #     reset_after: 60
  #   shutdown:
  #     grace_period: 30
  #     signal: SIGINT
  #   log:
  #     max_bytes: 50MB
  #     backups: 3
  #     timestamps: true
  #   limits:                        # none by default; null lifts one from defaults
  #     memory: 512M
  #     cpu: 50%                     # of one core: 150% is one and a half
  #     nofile: 4096                 # open files, soft and hard
  #     nproc: 256                   # processes of your user, or unlimited
  #     core: 0                      # core dump size: 0 (none), a size, or unlimited
"""

OPENCLAW_GATEWAY_JOB_ID = "openclaw-gateway"

_GATEWAY_JOB = """\
  # The OpenClaw gateway, kept running by ProcClaw (`procclaw init --openclaw`).
  # `openclaw` must be on the daemon's PATH. When the gateway stops answering its
  # health check it is restarted; after 1 s, 2 s, 5 s and 10 s it is `failed`, and
  # you get an alert (and one for every crash before). It has a supervisor of its own
  # (`isolate`): no other job can slow its restarts or its logs. It is restarted only
  # when it fails: a gateway that exits 0 was told to stop, and stays stopped.
  openclaw-gateway:
    name: OpenClaw Gateway
    cmd: openclaw gateway --port {port}   # openclaw.json's gateway.port at init
    type: continuous
    restart: on-failure
    isolate: true
    tags: [openclaw]
    env:
      NO_COLOR: "1"              # plain text in its log, no colour codes
      # Restart in place, keeping its pid, instead of exiting for systemd to restart it
      # (as it would when ProcClaw runs as a service): here that exit ends the job. So
      # stop the job before `openclaw update`, and start it after.
      OPENCLAW_NO_RESPAWN: "1"
    health_check:
      type: http
      url: {gateway_url}/healthz   # liveness; `/` is the Control UI
      interval: 30s
      timeout: 5s
      retries: 3
      start_period: 30s
    retry:
      delays: [1s, 2s, 5s, 10s]
    alerts:
      # Every crash, not only the last: a gateway down is an agent gone deaf. Sent to
      # openclaw.alerts' channels in procclaw.yaml.
      on: [crash, failed, unhealthy, recovered]
    shutdown:
      grace_period: 330          # the gateway drains for up to 315 s, as OpenClaw allows
"""


def openclaw_gateway_job(port: int) -> str:
    """The gateway job's entry in jobs.yaml, listening on `port`."""
    return _GATEWAY_JOB.replace("{port}", str(port)).replace(
        "{gateway_url}", local_gateway_url(port)
    )
