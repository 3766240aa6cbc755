from procclaw.suggest import closest, did_you_mean


def test_suggests_the_closest_candidate_with_a_leading_space():
    assert did_you_mean("comand", ["cmd", "cwd", "name"]) == " (did you mean 'cmd'?)"


def test_suggests_a_job_id_with_one_typo():
    assert did_you_mean("dbb", ["api", "db", "worker"]) == " (did you mean 'db'?)"


def test_suggests_nothing_when_no_candidate_is_close():
    assert did_you_mean("xyzzy", ["cmd", "cwd", "name"]) == ""


def test_suggests_nothing_without_candidates():
    assert did_you_mean("cmd", []) == ""


def test_accepts_any_iterable_of_candidates():
    assert did_you_mean("prot", (key for key in ("host", "port"))) == " (did you mean 'port'?)"


def test_closest_returns_the_best_match_or_none():
    assert closest("schedul", ["schedule", "shell"]) == "schedule"
    assert closest("zzz", ["schedule", "shell"]) is None
