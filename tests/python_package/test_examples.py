"""The package's examples (examples/python) run as users run them."""
import subprocess
import sys


def test_generate_example_streams_and_serves_threads(repo, smollm2_path):
    run = subprocess.run([sys.executable, repo / "examples/python/generate.py", smollm2_path,
                          "What is the capital of France?", "--max-tokens", "24"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Paris" in run.stdout
    assert "[stop | prompt" in run.stdout
    assert "[served 5 requests" in run.stdout


def test_generate_example_reports_a_missing_model(repo, tmp_path):
    run = subprocess.run([sys.executable, repo / "examples/python/generate.py",
                          tmp_path / "absent.gguf", "Hi"], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 1
    assert "hearth: cannot open model file" in run.stderr and "absent.gguf" in run.stderr
