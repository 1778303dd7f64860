# sitecustomize.py — works around a Debian packaging mismatch in az 2.45 so that the real
# `az role assignment|definition` commands can run against castor (real-clients-cli-python.md §5).
#
# Debian's azure-cli 2.45 was written for an older azure-mgmt-authorization whose operation
# groups had a public `config`; python3-azure ships 3.0.0, where it is `_config`. Every
# `az role assignment create|list|delete` and `az role definition list` then crashes with
# AttributeError before sending anything. This file, found through PYTHONPATH by the test
# only, adds the old name back. It changes nothing on the wire.
import importlib

for version in ("v2018_01_01_preview", "v2020_04_01_preview", "v2022_04_01"):
    try:
        ops = importlib.import_module(f"azure.mgmt.authorization.{version}.operations")
    except ImportError:
        continue
    for name in dir(ops):
        cls = getattr(ops, name)
        if isinstance(cls, type) and name.endswith("Operations") and not hasattr(cls, "config"):
            cls.config = property(lambda self: self._config)
