# torchrun for Debian's PyTorch 1.13 under Python 3.11, where `torchrun` fails before starting any worker
# ("AttributeError: 'NoneType' object has no attribute 'get'"): its Std.from_str looks "0" up by iterating
# an IntFlag, and Python 3.11 no longer yields the zero member (docs.python.org/3.11/library/enum.html,
# "Changed in 3.11: aliases and the zero value are no longer returned" on iteration). This shim maps that
# None back to Std.NONE, then runs torch.distributed.run unchanged. Elsewhere use plain `torchrun`.
"""Usage: /usr/bin/python3 python/resnorm_torch/torchrun.py [torchrun options] python/resnorm_torch/train.py ..."""
import sys

from torch.distributed.elastic.multiprocessing import api

_from_str = api.Std.from_str.__func__


def _fixed_from_str(cls, vm):
    r = _from_str(cls, vm)
    if r is None:
        return cls.NONE
    if isinstance(r, dict):
        return {k: cls.NONE if v is None else v for k, v in r.items()}
    return r


api.Std.from_str = classmethod(_fixed_from_str)

if __name__ == "__main__":
    from torch.distributed.run import main
    sys.exit(main())
