"""ser-batch --scheduler on a real Dask cluster: a scheduler and two worker processes started on
127.0.0.1 by the test, which give the outputs and statuses of the local run."""

import pytest
from archive import make_archive, read_calls, ser_batch
from dask_cluster import dask_cluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with dask_cluster(tmp_path_factory.mktemp("dask")) as (address, _):
        yield address


def test_two_dask_workers_give_the_local_runs_outputs(cluster, batch_archive, tmp_path):
    calls, good, local, _ = batch_archive
    remote = tmp_path / "dask"
    result = ser_batch(calls, "--out", remote, "--scheduler", cluster)
    assert result.returncode == 1, result.stderr
    assert "2 of 8 recordings failed" in result.stderr
    for path in good:
        name = str(path.relative_to(calls)) + ".csv"
        assert (remote / name).read_bytes() == (local / name).read_bytes()
    local_rows, remote_rows = read_calls(local), read_calls(remote)
    assert {k: r["status"] for k, r in remote_rows.items()} == {
        k: r["status"] for k, r in local_rows.items()
    }
    skip = {"processing_s"}
    for key, row in remote_rows.items():
        assert {k: v for k, v in row.items() if k not in skip} == {
            k: v for k, v in local_rows[key].items() if k not in skip
        }
    again = ser_batch(calls, "--out", remote, "--scheduler", cluster)
    assert "8 of 8 recordings done before" in again.stderr


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path):
    calls = tmp_path / "calls"
    make_archive(calls, calls=1)
    result = ser_batch(
        calls,
        "--out",
        tmp_path / "out",
        "--scheduler",
        "tcp://127.0.0.1:9",
        "--scheduler-timeout",
        "1",
        timeout=120,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the Dask scheduler" in lines[0], lines
