#!/usr/bin/env python3
"""hearth from Python through ctypes alone: no bindings, just libhearth.so's C ABI
(include/hearth/c_api.h).

    python3 examples/python/ctypes_generate.py build/capi/libhearth.so.0 \\
        models/SmolLM2-135M-Instruct.Q4_1.gguf "What is the capital of France?"

Streams the greedy answer, then prints the finish reason and token counts. Exits 1 with
the library's message on a failure."""
import ctypes
import sys

HEARTH_OK = 0


class EngineParams(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("model_path", ctypes.c_char_p),
                ("threads", ctypes.c_int32), ("context_length", ctypes.c_int32),
                ("kv_cache_bytes", ctypes.c_int64), ("max_batch_tokens", ctypes.c_int32),
                ("max_sequences", ctypes.c_int32), ("prefix_caching", ctypes.c_int32)]


class Request(ctypes.Structure):
    _fields_ = [("struct_size", ctypes.c_uint32), ("prompt", ctypes.c_char_p),
                ("message_roles", ctypes.POINTER(ctypes.c_char_p)),
                ("message_contents", ctypes.POINTER(ctypes.c_char_p)),
                ("n_messages", ctypes.c_size_t), ("max_tokens", ctypes.c_int32),
                ("temperature", ctypes.c_float), ("top_k", ctypes.c_int32),
                ("top_p", ctypes.c_float), ("min_p", ctypes.c_float),
                ("repetition_penalty", ctypes.c_float), ("seed", ctypes.c_uint64),
                ("stop", ctypes.POINTER(ctypes.c_char_p)), ("n_stop", ctypes.c_size_t),
                ("priority", ctypes.c_int32), ("timeout_s", ctypes.c_double),
                ("ignore_eos", ctypes.c_int32)]


TokenCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_char), ctypes.c_size_t,
                                 ctypes.c_void_p)


def load(path):
    lib = ctypes.CDLL(path)
    lib.hearth_version.restype = ctypes.c_uint32
    lib.hearth_last_error.restype = ctypes.c_char_p
    lib.hearth_engine_params_init.argtypes = [ctypes.POINTER(EngineParams)]
    lib.hearth_engine_create.argtypes = [ctypes.POINTER(EngineParams),
                                         ctypes.POINTER(ctypes.c_void_p)]
    lib.hearth_engine_destroy.argtypes = [ctypes.c_void_p]
    lib.hearth_request_init.argtypes = [ctypes.POINTER(Request)]
    lib.hearth_engine_generate.argtypes = [ctypes.c_void_p, ctypes.POINTER(Request), TokenCallback,
                                           ctypes.c_void_p, ctypes.POINTER(ctypes.c_void_p)]
    for name in ("hearth_result_text", "hearth_result_finish_reason"):
        getattr(lib, name).restype = ctypes.c_char_p
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    for name in ("hearth_result_prompt_tokens", "hearth_result_completion_tokens"):
        getattr(lib, name).restype = ctypes.c_int32
        getattr(lib, name).argtypes = [ctypes.c_void_p]
    lib.hearth_result_destroy.argtypes = [ctypes.c_void_p]
    return lib


def fail(lib, what):
    print(f"ctypes_generate: {what}: {lib.hearth_last_error().decode()}", file=sys.stderr)
    return 1


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    lib = load(sys.argv[1])
    params = EngineParams()
    lib.hearth_engine_params_init(ctypes.byref(params))
    params.model_path = sys.argv[2].encode()
    engine = ctypes.c_void_p()
    if lib.hearth_engine_create(ctypes.byref(params), ctypes.byref(engine)) != HEARTH_OK:
        return fail(lib, "cannot load the model")

    request = Request()
    lib.hearth_request_init(ctypes.byref(request))
    request.prompt = sys.argv[3].encode()
    request.max_tokens = int(sys.argv[4]) if len(sys.argv) > 4 else 32
    request.temperature = 0.0

    @TokenCallback
    def on_token(piece, length, _user_data):
        sys.stdout.write(ctypes.string_at(piece, length).decode("utf-8", "replace"))
        sys.stdout.flush()
        return 0

    result = ctypes.c_void_p()
    status = lib.hearth_engine_generate(engine, ctypes.byref(request), on_token, None,
                                        ctypes.byref(result))
    if status != HEARTH_OK:
        lib.hearth_engine_destroy(engine)
        return fail(lib, "cannot generate")
    print(f"\n[finish {lib.hearth_result_finish_reason(result).decode()} | prompt "
          f"{lib.hearth_result_prompt_tokens(result)} tokens | completion "
          f"{lib.hearth_result_completion_tokens(result)} tokens]")
    lib.hearth_result_destroy(result)
    lib.hearth_engine_destroy(engine)
    return 0


if __name__ == "__main__":
    sys.exit(main())
