# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
#
# Compatibility shim for running the original OpenSecureConf 3.x server
# (lordraw77/OpenSecureConf, commit e05a0f62) on Debian 12's packages.
# Not part of the original; lives outside its files, on PYTHONPATH.
#
# FastAPI 0.92 (Debian 12) has no `lifespan=` argument (added in 0.93): it
# lands in FastAPI's **extra and is silently ignored, so the original's
# start-up/shutdown code (banner, cluster start) would never run. Starlette
# 0.26's router does support a lifespan context, so hand it over there.
import os

if os.environ.get("OSC_ORIG_SHIM", "1") != "0":
    try:
        import fastapi.applications as _fa
        import inspect as _inspect

        if "lifespan" not in _inspect.signature(_fa.FastAPI.__init__).parameters:
            _orig_init = _fa.FastAPI.__init__

            def _init(self, *args, lifespan=None, **kwargs):
                _orig_init(self, *args, **kwargs)
                if lifespan is not None:
                    self.router.lifespan_context = lifespan

            _fa.FastAPI.__init__ = _init
    except ImportError:
        pass

# SQLAlchemy 1.4 (Debian 12) gives file-based SQLite engines a NullPool and
# rejects pool_size/max_overflow with a TypeError on every user-key request;
# SQLAlchemy 2.0, which the original is installed with from PyPI, gives them a
# QueuePool (the 2.0 default for file databases) and accepts both. Give 1.4
# the same pool 2.0 would choose.
if os.environ.get("OSC_ORIG_SHIM", "1") != "0":
    try:
        import sqlalchemy as _sa

        if _sa.__version__.startswith("1."):
            from sqlalchemy.pool import QueuePool as _QueuePool
            _orig_create_engine = _sa.create_engine

            def _create_engine(url, **kwargs):
                u = str(url)
                if (u.startswith("sqlite") and "poolclass" not in kwargs
                        and ":memory:" not in u and u not in ("sqlite://", "sqlite:///")
                        and ("pool_size" in kwargs or "max_overflow" in kwargs)):
                    kwargs["poolclass"] = _QueuePool
                return _orig_create_engine(url, **kwargs)

            _sa.create_engine = _create_engine
    except ImportError:
        pass

# Pydantic 1.10 (Debian 12) validates Union[dict, str, int, bool, list] left to
# right with coercion, so a value of 1 or true would be stored as the string
# "1" or "True"; pydantic 2, which the original is installed with, picks the
# member that matches exactly ("smart" union, API.md §3.3). Pydantic 1.10's
# smart_union does the same for these types. Still different: a float (5.0,
# 2.5) matches no member exactly and is coerced to a string, where pydantic 2
# gives 5 and a 422, and 422 texts stay pydantic 1's. No benchmark sends those.
if os.environ.get("OSC_ORIG_SHIM", "1") != "0":
    try:
        import pydantic as _pd

        if _pd.VERSION.startswith("1."):
            _pd.BaseConfig.smart_union = True
    except ImportError:
        pass
