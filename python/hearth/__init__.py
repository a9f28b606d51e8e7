"""hearth: an embeddable runtime for serverless LLM inference.

    import hearth
    engine = hearth.Engine("models/SmolLM2-135M-Instruct.Q4_1.gguf")
    print(engine.generate(messages=[{"role": "user", "content": "Hi!"}], max_tokens=32).text)
    for piece in engine.stream("Once upon a time", max_tokens=32, temperature=0):
        print(piece, end="", flush=True)

Errors are raised as hearth.Error subclasses carrying the C++ message (see hearth.Error).
"""
from ._hearth import *  # noqa: F401,F403
from ._hearth import __version__  # noqa: F401
