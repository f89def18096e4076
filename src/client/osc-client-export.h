/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

/* libosc-client-1 is built with -fvisibility=hidden: only what carries this is its ABI */
#if defined(OSC_CLIENT_COMPILATION) && defined(__GNUC__)
#define OSC_CLIENT_EXPORT __attribute__((visibility("default"))) extern
#else
#define OSC_CLIENT_EXPORT extern
#endif
