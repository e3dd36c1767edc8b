"""The serving engine: base models loaded once, LoRA adapters on demand, continuous batching.

No Django here (tests/serving/test_engine_layers.py): the engine runs in its own worker process
(``python -m serving.engine.server``) and the web process forwards requests to it over HTTP on
127.0.0.1. Paths it is given are checked against the folders it was started with.
"""
