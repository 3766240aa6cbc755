"""What every actor shares: its loop, its link to root and the bus, its command server.

- actor.py: the Actor base class: hello, heartbeats, lifeline, bus link
- loop.py: the event loop (one zmq.Poller, timers, signals)
- command_server.py, async_calls.py: answering requests, asking without waiting
- blocking_calls.py: worker threads for calls that may block
- report_queue.py: reports to the controller, batched and re-sent until acknowledged
- registry.py, zygote.py, zygote_link.py: the actor kinds and the template they fork from
- supervisor_channel.py: the private channel between root and a supervisor
- job_process.py: starting, recognising and killing a job's processes
"""
