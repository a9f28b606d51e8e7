"""hearth.Engine from Python on the real SmolLM2 model: text, streaming, callbacks,
cancellation, deadlines, metrics, and the errors bad input gets."""
import pytest

import hearth

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def test_generate_answers_a_chat_question(smollm2):
    result = smollm2.generate(messages=QUESTION, max_tokens=24, temperature=0)
    assert "Paris" in result.text
    assert result.finish_reason == "stop"
    assert result.error is None
    assert result.completion_tokens == len(result.tokens) > 0
    assert result.prompt_tokens > 10
    assert 0 < result.timings.first_token_ms
    assert "Paris" in repr(result)


def test_stream_yields_the_text_of_the_result(smollm2):
    request = smollm2.stream("Once upon a time", max_tokens=20, temperature=0)
    pieces = list(request)
    result = request.result()
    assert len(pieces) > 5 and all(pieces)
    assert "".join(pieces) == result.text
    assert result.finish_reason == "length" and result.completion_tokens == 20
    # Greedy decoding: the same answer as a plain generate.
    assert smollm2.generate("Once upon a time", max_tokens=20, temperature=0).text == result.text


def test_seeded_sampling_is_reproducible(smollm2):
    a = smollm2.generate("The weather today", max_tokens=16, temperature=1.0, seed=7)
    b = smollm2.generate("The weather today", max_tokens=16, temperature=1.0, seed=7)
    assert a.tokens == b.tokens


def test_stop_strings_end_generation_before_them(smollm2):
    full = smollm2.generate("Count: one, two, three,", max_tokens=16, temperature=0).text
    stop = full.strip().split()[1]
    result = smollm2.generate("Count: one, two, three,", max_tokens=16, temperature=0,
                              stop=[stop])
    assert result.finish_reason == "stop"
    assert stop not in result.text
    assert full.startswith(result.text)


def test_callback_sees_every_piece_and_can_stop(smollm2):
    pieces = []
    result = smollm2.generate("Once upon a time", max_tokens=40, temperature=0,
                              on_token=lambda piece: pieces.append(piece) or len(pieces) < 3)
    assert result.finish_reason == "cancelled"
    assert len(pieces) == 3
    assert result.text.startswith("".join(pieces))


def test_callback_exception_is_raised_and_stops_the_request(smollm2):
    def broken(piece):
        raise KeyError("broken callback")

    with pytest.raises(KeyError, match="broken callback"):
        smollm2.generate("Once upon a time", max_tokens=40, temperature=0, on_token=broken)
    # The engine goes on serving.
    assert smollm2.generate("Hello", max_tokens=2, temperature=0).completion_tokens == 2


def test_submit_then_cancel(smollm2):
    request = smollm2.submit("Once upon a time", max_tokens=200, temperature=0)
    first = next(request)
    assert first
    request.cancel()
    result = request.result()
    assert result.finish_reason == "cancelled"
    assert result.completion_tokens < 200
    assert request.result() is not None  # a second call returns the same result
    with pytest.raises(hearth.FailedPreconditionError):
        request.cancel()  # after completion


def test_timeout_finishes_with_deadline(smollm2):
    result = smollm2.generate("Once upon a time", max_tokens=500, ignore_eos=True,
                              temperature=0, timeout=0.05)
    assert result.finish_reason == "deadline"
    assert result.completion_tokens < 500


def test_dropping_an_unfinished_request_cancels_it(tiny_model):
    engine = hearth.Engine(tiny_model, threads=1)
    request = engine.submit("Once upon a time", max_tokens=300, ignore_eos=True)
    next(request)
    del request
    assert engine.metrics().requests_cancelled == 1
    engine.close()  # the scheduler publishes its last state
    metrics = engine.metrics()
    assert metrics.requests_finished == 1
    assert metrics.kv_blocks_used == 0


def test_metrics_and_model_info(smollm2):
    smollm2.generate("Hello there", max_tokens=4, temperature=0)
    metrics = smollm2.metrics()
    assert metrics.requests_finished >= 1
    assert metrics.generated_tokens >= 4
    assert metrics.kv_blocks_total == metrics.kv_blocks_used + metrics.kv_blocks_cached + \
        metrics.kv_blocks_free
    ttft = metrics.time_to_first_token_ms
    assert ttft.count >= 1 and ttft.quantile(0.5) > 0
    assert len(ttft.counts) == len(ttft.upper_bounds) + 1
    info = smollm2.model_info
    assert info.architecture == "llama"
    assert info.vocab_size == 49152 and info.layers == 30
    assert smollm2.load_ms > 0 and smollm2.threads == 2
    assert info.backend == "cpu"


def test_backend_choice(tiny_model):
    # CI has no GPU: "cuda" is a clear error there and "auto" runs on the CPU.
    try:
        engine = hearth.Engine(tiny_model, threads=1, backend="cuda")
        assert engine.model_info.backend == "cuda"
    except (hearth.UnimplementedError, hearth.FailedPreconditionError) as error:
        assert "CUDA" in str(error)
    assert hearth.Engine(tiny_model, threads=1, backend="auto").model_info.backend in ("cpu", "cuda")
    with pytest.raises(hearth.InvalidArgumentError, match="unknown backend 'tpu'"):
        hearth.Engine(tiny_model, backend="tpu")


def test_activation_precision(smollm2_path):
    eight = hearth.Engine(smollm2_path, threads=2, activations=8)
    assert eight.generate("The capital of France is", max_tokens=4, temperature=0).tokens
    with pytest.raises(hearth.InvalidArgumentError, match="unknown activation precision '4'"):
        hearth.Engine(smollm2_path, activations=4)


@pytest.mark.parametrize("options, error", [
    (dict(max_tokens=0), hearth.InvalidArgumentError),
    (dict(temperature=-1.0), hearth.InvalidArgumentError),
    (dict(top_p=0.0), hearth.InvalidArgumentError),
    (dict(timeout=-1.0), hearth.InvalidArgumentError),
    (dict(messages=QUESTION), hearth.InvalidArgumentError),  # with a prompt too
    (dict(max_tokens="many"), TypeError),
    (dict(stop=[1, 2]), TypeError),
    (dict(no_such_option=1), TypeError),
])
def test_bad_options_raise(smollm2, options, error):
    with pytest.raises(error):
        smollm2.generate("Hello", **options)


def test_invalid_argument_is_also_a_value_error_with_the_message(smollm2):
    with pytest.raises(ValueError, match="max_tokens") as raised:
        smollm2.generate("Hello", max_tokens=-3)
    assert isinstance(raised.value, hearth.Error)
    assert raised.value.code == "invalid_argument"


def test_bad_messages_raise(smollm2):
    with pytest.raises(ValueError, match="role"):
        smollm2.generate(messages=[{"content": "no role"}])
    with pytest.raises(TypeError):
        smollm2.generate(messages=[("user", "hi", "extra")])
    with pytest.raises(TypeError):
        smollm2.generate(messages=42)


def test_iterating_a_callback_request_is_refused(smollm2):
    request = smollm2.submit("Hello", max_tokens=3, on_token=lambda piece: True)
    with pytest.raises(hearth.FailedPreconditionError, match="callback"):
        next(request)
    assert request.result().completion_tokens == 3


def test_missing_model_is_not_found(tmp_path):
    with pytest.raises(hearth.NotFoundError, match="no-such.gguf") as raised:
        hearth.Engine(tmp_path / "no-such.gguf")
    assert isinstance(raised.value, LookupError)


def test_not_a_model_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"definitely not a gguf file" * 10)
    with pytest.raises(hearth.Error, match="junk.gguf"):
        hearth.Engine(junk)


def test_closed_engine_refuses_work(tiny_model):
    engine = hearth.Engine(tiny_model, threads=1)
    assert engine.generate("Once", max_tokens=4, temperature=0).completion_tokens == 4
    engine.close()
    engine.close()  # idempotent
    with pytest.raises(hearth.FailedPreconditionError):
        engine.generate("Once", max_tokens=4)
