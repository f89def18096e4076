/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#pragma once

/* libosc-client-1: the OpenSecureConf client library (GObject-Introspection namespace Osc) */

#define OSC_CLIENT_INSIDE

#include "osc-client-admin.h"
#include "osc-client-error.h"
#include "osc-client.h"
#include "osc-config-entry.h"
#include "osc-event-stream.h"
#include "osc-event.h"

#undef OSC_CLIENT_INSIDE
