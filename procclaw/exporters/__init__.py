"""`procclaw export`: jobs.yaml as systemd units, Kubernetes manifests, Nomad job specs
or a Compose file, with a warning for each thing a target cannot express."""
