/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

/*
 * Every fuzz target defines both: libFuzzer calls them (with -Dfuzzing=true and clang), and
 * so does fuzz-main.c, which runs the committed corpus in the normal build's unit suite.
 */
int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
