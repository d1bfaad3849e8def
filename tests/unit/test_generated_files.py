"""Generated files (the demo's clips, pictures, the PTZ panorama) are made once, whoever
asks first, and never seen half-written (issue 30: `make demo` logged a panorama whose
filter script one writer deleted under another)."""

import multiprocessing
import threading
import time

from wallclient import paths


def _make(path, calls):
    with paths.made_once(path) as tmp:
        if tmp is not None:
            calls.append(1)
            with open(tmp, "wb") as fh:
                for _ in range(20):  # slowly, so that the others are there meanwhile
                    fh.write(b"x" * 50_000)
                    time.sleep(0.005)
    return path.read_bytes()


def test_threads_that_ask_at_once_get_one_whole_file(tmp_path):
    path = tmp_path / "asset.bin"
    calls, got = [], []
    threads = [threading.Thread(target=lambda: got.append(_make(path, calls))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert all(len(g) == 1_000_000 for g in got) and len(got) == 6
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == ["asset.bin"]


def _in_process(path, queue):
    calls = []
    data = _make(path, calls)
    queue.put((len(calls), len(data)))


def test_processes_that_ask_at_once_get_one_whole_file(tmp_path):
    path = tmp_path / "asset.bin"
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_in_process, args=(path, queue)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert sum(n for n, _ in results) == 1
    assert all(size == 1_000_000 for _, size in results)


def test_a_writer_that_fails_leaves_nothing_behind(tmp_path):
    path = tmp_path / "asset.bin"
    try:
        with paths.made_once(path) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("ffmpeg died")
    except RuntimeError:
        pass
    assert not path.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["asset.bin.lock"]
