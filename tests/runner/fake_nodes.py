"""A stand-in node description for Ray tests: a fake GPU node's device and environment.

The Ray workers import it as ``fake_nodes:describe`` (``RayOptions.describe``) with this
folder on PYTHONPATH (the tests' ``runtime_env``), so a CPU-only machine can play a GPU node.
"""


def describe(device_type: str, machine: str | None):
    name = "Fake GPU" if device_type == "cuda" else "Fake CPU"
    device = {"type": device_type, "name": name, "count": 1, "memory_bytes": 1 << 30}
    env = {"python": "3", "scaleboard": "0.2.0", "os": "Linux", "fingerprint": f"node-{device_type}"}
    return device, env, machine or f"{name} node"
