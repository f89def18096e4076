# Copyright 2026 The OpenSecureConf Authors
# SPDX-License-Identifier: Apache-2.0
#
# Minimal stand-in for the `sse-starlette` package (not packaged in Debian 12).
# Only what the original server uses: sse_starlette.sse.EventSourceResponse.
