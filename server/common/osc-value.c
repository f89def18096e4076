/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscValue"

#include "config.h"

#include "osc-value.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/random.h>

#include "osc-error.h"

/*
 * Two JSON writers share one generator here:
 *
 * - the "python" style reproduces Python's `json.dumps(value)` byte for byte (API.md §6.3):
 *   the original encrypts exactly that text, and a value written by us must decrypt to the
 *   same plaintext the original would have produced;
 * - the "compact" style is what FastAPI's JSONResponse writes (separators "," and ":",
 *   ensure_ascii=False).
 *
 * JsonGenerator is not used: json-glib 1.6 writes doubles with "%.17g" (0.1 comes out as
 * 0.10000000000000001 and an infinity as the invalid "inf.0"), and it escapes 0x7f.
 */

typedef enum {
	OSC_JSON_STYLE_PYTHON,
	OSC_JSON_STYLE_COMPACT,
} OscJsonStyle;

static void
osc_json_append_escaped_char(GString *out, gunichar c)
{
	static const gchar hex[] = "0123456789abcdef";

	if (c > 0xffff) {
		/* outside the BMP: a UTF-16 surrogate pair, like Python */
		gunichar v = c - 0x10000;
		osc_json_append_escaped_char(out, 0xd800 | (v >> 10));
		osc_json_append_escaped_char(out, 0xdc00 | (v & 0x3ff));
		return;
	}
	g_string_append_c(out, '\\');
	g_string_append_c(out, 'u');
	g_string_append_c(out, hex[(c >> 12) & 0xf]);
	g_string_append_c(out, hex[(c >> 8) & 0xf]);
	g_string_append_c(out, hex[(c >> 4) & 0xf]);
	g_string_append_c(out, hex[c & 0xf]);
}

static void
osc_json_append_string(GString *out, const gchar *str, OscJsonStyle style)
{
	const gchar *p = str;
	const gchar *end = str + strlen(str);

	g_string_append_c(out, '"');
	while (p < end) {
		guchar b = (guchar)*p;
		gunichar c;

		if (b < 0x80) {
			switch (b) {
			case '"':
				g_string_append(out, "\\\"");
				break;
			case '\\':
				g_string_append(out, "\\\\");
				break;
			case '\n':
				g_string_append(out, "\\n");
				break;
			case '\r':
				g_string_append(out, "\\r");
				break;
			case '\t':
				g_string_append(out, "\\t");
				break;
			case '\b':
				g_string_append(out, "\\b");
				break;
			case '\f':
				g_string_append(out, "\\f");
				break;
			default:
				if (b < 0x20 || (b == 0x7f && style == OSC_JSON_STYLE_PYTHON))
					osc_json_append_escaped_char(out, b);
				else
					g_string_append_c(out, (gchar)b);
				break;
			}
			p++;
			continue;
		}

		c = g_utf8_get_char_validated(p, end - p);
		if (c == (gunichar)-1 || c == (gunichar)-2) {
			/* not UTF-8 (only possible for a node built by hand): keep the output
			 * valid JSON by writing U+FFFD for the bad byte */
			c = 0xfffd;
			if (style == OSC_JSON_STYLE_PYTHON)
				osc_json_append_escaped_char(out, c);
			else
				g_string_append_unichar(out, c);
			p++;
			continue;
		}
		if (style == OSC_JSON_STYLE_PYTHON)
			osc_json_append_escaped_char(out, c);
		else
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
		p = g_utf8_next_char(p);
	}
	g_string_append_c(out, '"');
}

/* Python's float repr: the shortest digit string that reads back as the same double,
 * in exponent form when the decimal exponent is < -4 or >= 16 */
static void
osc_json_append_double(GString *out, gdouble value)
{
	static const gchar *formats[] = {"%.0e",  "%.1e",  "%.2e",  "%.3e",  "%.4e",  "%.5e",
					 "%.6e",  "%.7e",  "%.8e",  "%.9e",  "%.10e", "%.11e",
					 "%.12e", "%.13e", "%.14e", "%.15e", "%.16e"};
	gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
	gchar digits[32];
	guint n_digits = 0;
	gint exponent;
	gint decpt;
	const gchar *p;

	if (!isfinite(value)) {
		/* JSON cannot express these and osc_value_normalize() refuses them; Python would
		 * write NaN/Infinity, which no JSON parser of ours reads back */
		g_string_append(out, "null");
		return;
	}
	if (value == 0.0) {
		g_string_append(out, signbit(value) ? "-0.0" : "0.0");
		return;
	}
	for (guint i = 0; i < G_N_ELEMENTS(formats); i++) {
		g_ascii_formatd(buf, sizeof(buf), formats[i], value);
		if (g_ascii_strtod(buf, NULL) == value)
			break;
	}

	/* buf is now "[-]d[.ddd]e(+|-)xx" */
	p = buf;
	if (*p == '-') {
		g_string_append_c(out, '-');
		p++;
	}
	for (; *p != 'e' && *p != '\0'; p++) {
		if (g_ascii_isdigit(*p) && n_digits < sizeof(digits) - 1)
			digits[n_digits++] = *p;
	}
	exponent = *p == 'e' ? (gint)g_ascii_strtoll(p + 1, NULL, 10) : 0;
	while (n_digits > 1 && digits[n_digits - 1] == '0')
		n_digits--;
	digits[n_digits] = '\0';
	decpt = exponent + 1;

	if (decpt > 16 || decpt < -3) {
		g_string_append_c(out, digits[0]);
		if (n_digits > 1) {
			g_string_append_c(out, '.');
			g_string_append(out, digits + 1);
		}
		g_string_append_printf(out, "e%c%02d", exponent < 0 ? '-' : '+', ABS(exponent));
	} else if (decpt <= 0) {
		g_string_append(out, "0.");
		for (gint i = decpt; i < 0; i++)
			g_string_append_c(out, '0');
		g_string_append(out, digits);
	} else if ((guint)decpt >= n_digits) {
		g_string_append(out, digits);
		for (guint i = n_digits; i < (guint)decpt; i++)
			g_string_append_c(out, '0');
		g_string_append(out, ".0");
	} else {
		g_string_append_len(out, digits, decpt);
		g_string_append_c(out, '.');
		g_string_append(out, digits + decpt);
	}
}

/*
 * Integers beyond 64 bits (API.md §3.3: "integer: accepted, arbitrary size"). json-glib 1.6
 * wraps them silently, so osc_json_parse() hands them to json-glib as strings made of this
 * process's marker and the integer's digits, and osc_json_append_node() writes such a
 * string back as the bare integer. The marker holds 128 random bits and never leaves the
 * process, so no string a client sends can be taken for one.
 */
#define OSC_BIG_INT_MARKER_LEN 37 /* \x01, "big", 32 hex digits, ":" */

static gchar big_int_marker[OSC_BIG_INT_MARKER_LEN + 1];
static gint big_int_used; /* atomic: a marker was handed out */

static const gchar *
osc_big_int_marker(void)
{
	static gsize once;

	if (g_once_init_enter(&once)) {
		guint8 r[16] = {0};
		GString *m = g_string_new("\001big");

		if (getrandom(r, sizeof(r), 0) != (gssize)sizeof(r))
			g_error("getrandom() failed: %s", g_strerror(errno));
		for (guint i = 0; i < sizeof(r); i++)
			g_string_append_printf(m, "%02x", r[i]);
		g_string_append_c(m, ':');
		g_assert(m->len == OSC_BIG_INT_MARKER_LEN);
		memcpy(big_int_marker, m->str, OSC_BIG_INT_MARKER_LEN);
		g_string_free(m, TRUE);
		g_once_init_leave(&once, 1);
	}
	return big_int_marker;
}

/* the digits of a string that stands for a big integer, or NULL */
static const gchar *
osc_big_int_digits(const gchar *str)
{
	if (!g_atomic_int_get(&big_int_used) || str == NULL || str[0] != '\x01')
		return NULL;
	if (strncmp(str, osc_big_int_marker(), OSC_BIG_INT_MARKER_LEN) != 0)
		return NULL;
	return str + OSC_BIG_INT_MARKER_LEN;
}

static void
osc_json_append_node(GString *out, JsonNode *node, OscJsonStyle style)
{
	const gchar *item_sep = style == OSC_JSON_STYLE_PYTHON ? ", " : ",";
	const gchar *name_sep = style == OSC_JSON_STYLE_PYTHON ? ": " : ":";

	if (node == NULL) {
		g_string_append(out, "null");
		return;
	}
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_OBJECT: {
		JsonObject *object = json_node_get_object(node);
		JsonObjectIter iter;
		const gchar *name;
		JsonNode *member;
		gboolean first = TRUE;

		g_string_append_c(out, '{');
		/* member order as inserted, which is the order received (API.md §6.3) */
		json_object_iter_init_ordered(&iter, object);
		while (json_object_iter_next_ordered(&iter, &name, &member)) {
			if (!first)
				g_string_append(out, item_sep);
			first = FALSE;
			osc_json_append_string(out, name, style);
			g_string_append(out, name_sep);
			osc_json_append_node(out, member, style);
		}
		g_string_append_c(out, '}');
		break;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *array = json_node_get_array(node);
		guint len = json_array_get_length(array);

		g_string_append_c(out, '[');
		for (guint i = 0; i < len; i++) {
			if (i > 0)
				g_string_append(out, item_sep);
			osc_json_append_node(out, json_array_get_element(array, i), style);
		}
		g_string_append_c(out, ']');
		break;
	}
	case JSON_NODE_VALUE: {
		GType type = json_node_get_value_type(node);

		if (type == G_TYPE_INT64) {
			g_string_append_printf(out, "%" G_GINT64_FORMAT, json_node_get_int(node));
		} else if (type == G_TYPE_DOUBLE) {
			osc_json_append_double(out, json_node_get_double(node));
		} else if (type == G_TYPE_BOOLEAN) {
			g_string_append(out, json_node_get_boolean(node) ? "true" : "false");
		} else if (type == G_TYPE_STRING) {
			const gchar *digits = osc_big_int_digits(json_node_get_string(node));

			if (digits != NULL)
				g_string_append(out, digits);
			else
				osc_json_append_string(out, json_node_get_string(node), style);
		} else {
			/* json-glib only stores the four types above */
			g_string_append(out, "null");
		}
		break;
	}
	case JSON_NODE_NULL:
	default:
		g_string_append(out, "null");
		break;
	}
}

static gchar *
osc_json_write(JsonNode *node, OscJsonStyle style, gsize *out_len)
{
	GString *out = g_string_sized_new(64);

	osc_json_append_node(out, node, style);
	if (out_len != NULL)
		*out_len = out->len;
	return g_string_free(out, FALSE);
}

static gboolean
osc_value_is_finite(JsonNode *node)
{
	switch (json_node_get_node_type(node)) {
	case JSON_NODE_OBJECT: {
		JsonObjectIter iter;
		const gchar *name; /* json-glib 1.6 does not accept NULL here */
		JsonNode *member;

		json_object_iter_init_ordered(&iter, json_node_get_object(node));
		while (json_object_iter_next_ordered(&iter, &name, &member)) {
			if (!osc_value_is_finite(member))
				return FALSE;
		}
		return TRUE;
	}
	case JSON_NODE_ARRAY: {
		JsonArray *array = json_node_get_array(node);
		guint len = json_array_get_length(array);

		for (guint i = 0; i < len; i++) {
			if (!osc_value_is_finite(json_array_get_element(array, i)))
				return FALSE;
		}
		return TRUE;
	}
	case JSON_NODE_VALUE:
		if (json_node_get_value_type(node) == G_TYPE_DOUBLE)
			return isfinite(json_node_get_double(node));
		return TRUE;
	case JSON_NODE_NULL:
	default:
		return TRUE;
	}
}

/**
 * osc_value_normalize:
 * @value: (nullable): a parsed `value` member
 * @error: return location for a #GError
 *
 * Applies API.md §3.3 to the top level of @value: objects, strings, integers, booleans and
 * arrays are kept unchanged (nested content included); a number with a zero fraction that
 * fits in 64 bits becomes an integer; anything else is refused.
 *
 * Returns: (transfer full): the accepted value, or %NULL with %OSC_ERROR_INVALID_ARGUMENT
 */
JsonNode *
osc_value_normalize(JsonNode *value, GError **error)
{
	if (value == NULL)
		goto invalid;

	switch (json_node_get_node_type(value)) {
	case JSON_NODE_OBJECT:
	case JSON_NODE_ARRAY:
		/* json-glib reads 1e400 as an infinity; JSON has no way to write it back */
		if (!osc_value_is_finite(value)) {
			g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
					    "value contains a number that is out of range");
			return NULL;
		}
		return json_node_ref(value);
	case JSON_NODE_VALUE: {
		GType type = json_node_get_value_type(value);

		if (type == G_TYPE_INT64 || type == G_TYPE_STRING || type == G_TYPE_BOOLEAN)
			return json_node_ref(value);
		if (type == G_TYPE_DOUBLE) {
			gdouble d = json_node_get_double(value);

			/* [-2^63, 2^63): exactly the doubles that convert to a gint64 */
			if (isfinite(d) && d == trunc(d) && d >= -9223372036854775808.0 &&
			    d < 9223372036854775808.0)
				return json_node_init_int(json_node_alloc(), (gint64)d);
		}
		break;
	}
	case JSON_NODE_NULL:
	default:
		break;
	}

invalid:
	g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
			    "value must be an object, string, integer, boolean or array");
	return NULL;
}

/**
 * osc_value_to_python_json:
 * @value: a JSON value
 * @out_len: (out) (optional): the length of the result
 *
 * Serialises @value exactly as Python's `json.dumps(value)` does with its defaults
 * (API.md §6.3): the plaintext the original encrypts. The result is pure ASCII.
 *
 * Returns: (transfer full): the text, NUL-terminated
 */
gchar *
osc_value_to_python_json(JsonNode *value, gsize *out_len)
{
	g_return_val_if_fail(value != NULL, NULL);
	return osc_json_write(value, OSC_JSON_STYLE_PYTHON, out_len);
}

/* nesting limit of osc_json_validate(); Python's own default stops near 1000 too */
#define OSC_JSON_MAX_DEPTH 1000

typedef struct {
	const gchar *start;
	const gchar *p;
	const gchar *end;
	GError **error;
	/* whether the text holds anything osc_json_compact_append() rewrites: whitespace
	 * between tokens or a \uXXXX escape */
	gboolean not_compact;
	/* where integers beyond 64 bits are (offset, length pairs of gsize), made at the
	 * first one; NULL: not wanted */
	GArray **big;
} OscJsonScanner;

static gboolean
osc_json_scanner_fail(OscJsonScanner *sc, const gchar *what)
{
	g_set_error(sc->error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
		    "invalid JSON at offset %" G_GSIZE_FORMAT ": %s", (gsize)(sc->p - sc->start),
		    what);
	return FALSE;
}

static void
osc_json_scanner_skip_ws(OscJsonScanner *sc)
{
	const gchar *from = sc->p;

	while (sc->p < sc->end &&
	       (*sc->p == ' ' || *sc->p == '\t' || *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
	if (sc->p != from)
		sc->not_compact = TRUE;
}

static gboolean
osc_json_scanner_literal(OscJsonScanner *sc, const gchar *word)
{
	gsize n = strlen(word);

	if ((gsize)(sc->end - sc->p) < n || memcmp(sc->p, word, n) != 0)
		return osc_json_scanner_fail(sc, "expected a value");
	sc->p += n;
	return TRUE;
}

static gboolean
osc_json_scanner_string(OscJsonScanner *sc)
{
	sc->p++; /* the opening quote */
	while (sc->p < sc->end) {
		guchar c = (guchar)*sc->p;

		if (c == '"') {
			sc->p++;
			return TRUE;
		}
		if (c < 0x20)
			return osc_json_scanner_fail(sc, "control character in string");
		if (c != '\\') {
			sc->p++;
			continue;
		}
		sc->p++;
		if (sc->p >= sc->end)
			break;
		switch (*sc->p) {
		case '"':
		case '\\':
		case '/':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			sc->p++;
			break;
		case 'u':
			if (sc->end - sc->p < 5 || !g_ascii_isxdigit(sc->p[1]) ||
			    !g_ascii_isxdigit(sc->p[2]) || !g_ascii_isxdigit(sc->p[3]) ||
			    !g_ascii_isxdigit(sc->p[4]))
				return osc_json_scanner_fail(sc, "bad \\u escape");
			/* json-glib would cut the string short at a NUL */
			if (memcmp(sc->p + 1, "0000", 4) == 0)
				return osc_json_scanner_fail(sc, "\\u0000 is not supported");
			sc->not_compact = TRUE;
			sc->p += 5;
			break;
		default:
			return osc_json_scanner_fail(sc, "bad escape in string");
		}
	}
	return osc_json_scanner_fail(sc, "unterminated string");
}

static gboolean
osc_json_scanner_number(OscJsonScanner *sc)
{
	const gchar *start = sc->p;
	gboolean is_float = FALSE;
	gchar buf[64];
	g_autofree gchar *big = NULL;
	const gchar *number;
	gsize n;

	if (*sc->p == '-')
		sc->p++;
	if (sc->p < sc->end && *sc->p == '0') {
		sc->p++;
	} else if (sc->p < sc->end && *sc->p >= '1' && *sc->p <= '9') {
		while (sc->p < sc->end && g_ascii_isdigit(*sc->p))
			sc->p++;
	} else {
		return osc_json_scanner_fail(sc, "expected a digit");
	}
	if (sc->p < sc->end && *sc->p == '.') {
		is_float = TRUE;
		sc->p++;
		if (sc->p >= sc->end || !g_ascii_isdigit(*sc->p))
			return osc_json_scanner_fail(sc, "expected a digit");
		while (sc->p < sc->end && g_ascii_isdigit(*sc->p))
			sc->p++;
	}
	if (sc->p < sc->end && (*sc->p == 'e' || *sc->p == 'E')) {
		is_float = TRUE;
		sc->p++;
		if (sc->p < sc->end && (*sc->p == '+' || *sc->p == '-'))
			sc->p++;
		if (sc->p >= sc->end || !g_ascii_isdigit(*sc->p))
			return osc_json_scanner_fail(sc, "expected a digit");
		while (sc->p < sc->end && g_ascii_isdigit(*sc->p))
			sc->p++;
	}

	/* json-glib 1.6 reads 1e400 as an infinity: refuse it rather than change the value;
	 * it wraps integers outside gint64 silently: osc_json_parse() hands those over as
	 * marked strings */
	n = sc->p - start;
	if (n < sizeof(buf)) {
		memcpy(buf, start, n);
		buf[n] = '\0';
		number = buf;
	} else {
		big = g_strndup(start, n);
		number = big;
	}
	if (is_float) {
		if (isinf(g_ascii_strtod(number, NULL))) {
			sc->p = start;
			return osc_json_scanner_fail(sc, "number out of range");
		}
	} else {
		errno = 0;
		g_ascii_strtoll(number, NULL, 10);
		if (errno == ERANGE && sc->big != NULL) {
			gsize span[2] = {(gsize)(start - sc->start), n};
			if (*sc->big == NULL)
				*sc->big = g_array_new(FALSE, FALSE, sizeof(gsize));
			g_array_append_vals(*sc->big, span, 2);
		}
	}
	return TRUE;
}

static gboolean
osc_json_scanner_value(OscJsonScanner *sc, guint depth)
{
	osc_json_scanner_skip_ws(sc);
	if (sc->p >= sc->end)
		return osc_json_scanner_fail(sc, "expected a value");

	switch (*sc->p) {
	case '{':
	case '[': {
		gchar close = *sc->p == '{' ? '}' : ']';
		gboolean is_object = close == '}';

		if (depth >= OSC_JSON_MAX_DEPTH)
			return osc_json_scanner_fail(sc, "nested too deeply");
		sc->p++;
		osc_json_scanner_skip_ws(sc);
		if (sc->p < sc->end && *sc->p == close) {
			sc->p++;
			return TRUE;
		}
		for (;;) {
			if (is_object) {
				osc_json_scanner_skip_ws(sc);
				if (sc->p >= sc->end || *sc->p != '"')
					return osc_json_scanner_fail(sc, "expected a member name");
				if (!osc_json_scanner_string(sc))
					return FALSE;
				osc_json_scanner_skip_ws(sc);
				if (sc->p >= sc->end || *sc->p != ':')
					return osc_json_scanner_fail(sc, "expected ':'");
				sc->p++;
			}
			if (!osc_json_scanner_value(sc, depth + 1))
				return FALSE;
			osc_json_scanner_skip_ws(sc);
			if (sc->p < sc->end && *sc->p == ',') {
				sc->p++;
				continue;
			}
			if (sc->p < sc->end && *sc->p == close) {
				sc->p++;
				return TRUE;
			}
			return osc_json_scanner_fail(sc, is_object ? "expected ',' or '}'"
								   : "expected ',' or ']'");
		}
	}
	case '"':
		return osc_json_scanner_string(sc);
	case 't':
		return osc_json_scanner_literal(sc, "true");
	case 'f':
		return osc_json_scanner_literal(sc, "false");
	case 'n':
		return osc_json_scanner_literal(sc, "null");
	default:
		if (*sc->p == '-' || g_ascii_isdigit(*sc->p))
			return osc_json_scanner_number(sc);
		return osc_json_scanner_fail(sc, "expected a value");
	}
}

/**
 * osc_json_validate:
 * @text: JSON text
 * @len: length of @text, or -1 when NUL-terminated
 * @error: return location for a #GError
 *
 * Checks that @text is one JSON value by RFC 8259, strictly: json-glib 1.6 also takes
 * single-quoted strings, comments, hex and octal-looking numbers, and changes some values
 * silently (1e400 becomes an infinity, a string is cut at \u0000, integers beyond 64 bits
 * wrap). Those are refused here, as is nesting deeper than 1000 levels, except integers of
 * any size, which are valid JSON and which osc_json_parse() keeps. UTF-8 validity is not
 * checked here.
 *
 * Returns: %TRUE if @text is acceptable, else %FALSE with %OSC_ERROR_INVALID_ARGUMENT
 */
static gboolean
osc_json_validate_full(const gchar *text,
		       gsize len,
		       GArray **big,
		       gboolean *compact,
		       GError **error)
{
	OscJsonScanner sc = {text, text, text + len, error, FALSE, big};

	if (!osc_json_scanner_value(&sc, 0))
		return FALSE;
	osc_json_scanner_skip_ws(&sc);
	if (sc.p != sc.end)
		return osc_json_scanner_fail(&sc, "trailing data after the value");
	if (compact != NULL)
		*compact = !sc.not_compact;
	return TRUE;
}

gboolean
osc_json_validate(const gchar *text, gssize len, GError **error)
{
	g_return_val_if_fail(text != NULL, FALSE);

	return osc_json_validate_full(text, len < 0 ? strlen(text) : (gsize)len, NULL, NULL,
				      error);
}

/**
 * osc_value_parse:
 * @text: JSON text, e.g. a decrypted plaintext
 * @len: length of @text, or -1 when NUL-terminated
 * @error: return location for a #GError
 *
 * Parses any valid JSON text (compact or not, API.md §6.3).
 *
 * Returns: (transfer full): the value, or %NULL with %OSC_ERROR_CORRUPT
 */
JsonNode *
osc_value_parse(const gchar *text, gssize len, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	JsonNode *root;

	g_return_val_if_fail(text != NULL, NULL);

	if (len < 0)
		len = strlen(text);
	if (!g_utf8_validate_len(text, len, NULL)) {
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_CORRUPT,
				    "stored value is not valid JSON: not UTF-8");
		return NULL;
	}
	root = osc_json_parse(text, (gsize)len, &error_local);
	if (root == NULL) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_CORRUPT,
			    "stored value is not valid JSON: %s", error_local->message);
		return NULL;
	}
	return root;
}

/**
 * osc_json_node_is_big_int:
 *
 * Returns: whether @node is an integer beyond 64 bits read by osc_json_parse() (it holds a
 *   marked string: never take it for a string)
 */
gboolean
osc_json_node_is_big_int(JsonNode *node)
{
	return node != NULL && JSON_NODE_HOLDS_VALUE(node) &&
	       json_node_get_value_type(node) == G_TYPE_STRING &&
	       osc_big_int_digits(json_node_get_string(node)) != NULL;
}

/**
 * osc_json_node_get_text:
 *
 * What a string member of a document read by osc_json_parse() holds: use it instead of
 * json_node_get_string(), which also returns the marked strings that stand for integers
 * beyond 64 bits.
 *
 * Returns: (nullable): the string @node holds, or %NULL when it holds anything else (an
 *   integer of any size included)
 */
const gchar *
osc_json_node_get_text(JsonNode *node)
{
	const gchar *text;

	if (node == NULL || !JSON_NODE_HOLDS_VALUE(node) ||
	    json_node_get_value_type(node) != G_TYPE_STRING)
		return NULL;
	text = json_node_get_string(node);
	return osc_big_int_digits(text) == NULL ? text : NULL;
}

/**
 * osc_json_parse:
 * @text: UTF-8 text
 *
 * Parses strictly valid JSON (osc_json_validate()) with json-glib. Integers beyond 64 bits,
 * which json-glib would wrap, come out as marked string nodes that this file's writers
 * (osc_json_to_string(), osc_value_to_python_json()) write back as the same integers.
 *
 * Returns: (transfer full): the root, or %NULL with %OSC_ERROR_INVALID_ARGUMENT
 */
JsonNode *
osc_json_parse(const gchar *text, gsize len, GError **error)
{
	g_autoptr(JsonParser) parser = json_parser_new_immutable();
	g_autoptr(GArray) big = NULL; /* the rare integers beyond 64 bits */
	g_autoptr(GError) error_local = NULL;
	g_autoptr(GString) marked = NULL;
	JsonNode *root;

	if (!osc_json_validate_full(text, len, &big, NULL, error))
		return NULL;
	if (big != NULL) {
		/* each integer as "\u0001big<hex>:<digits>" */
		const gchar *marker = osc_big_int_marker();
		gsize at = 0;

		marked = g_string_sized_new(len + big->len / 2 * (OSC_BIG_INT_MARKER_LEN + 8));
		for (guint i = 0; i < big->len; i += 2) {
			gsize off = g_array_index(big, gsize, i);
			gsize n = g_array_index(big, gsize, i + 1);

			g_string_append_len(marked, text + at, (gssize)(off - at));
			g_string_append(marked, "\"\\u0001");
			g_string_append(marked, marker + 1);
			g_string_append_len(marked, text + off, (gssize)n);
			g_string_append_c(marked, '"');
			at = off + n;
		}
		g_string_append_len(marked, text + at, (gssize)(len - at));
		g_atomic_int_set(&big_int_used, 1);
		text = marked->str;
		len = marked->len;
	}
	if (!json_parser_load_from_data(parser, text, (gssize)len, &error_local)) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT, "%s",
			    error_local->message);
		return NULL;
	}
	root = json_parser_steal_root(parser);
	if (root == NULL) {
		/* not reached after validation, but json-glib returns no root for "" */
		g_set_error_literal(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT, "empty");
		return NULL;
	}
	return root;
}

/**
 * osc_json_to_string:
 * @node: a JSON node
 * @out_len: (out) (optional): the length of the result
 *
 * Compact JSON for API responses, as FastAPI writes it: no whitespace, non-ASCII kept as
 * UTF-8, doubles as Python's repr.
 *
 * Returns: (transfer full): the text, NUL-terminated
 */
gchar *
osc_json_to_string(JsonNode *node, gsize *out_len)
{
	g_return_val_if_fail(node != NULL, NULL);
	return osc_json_write(node, OSC_JSON_STYLE_COMPACT, out_len);
}

/**
 * osc_json_append_quoted:
 * @str: UTF-8 text
 *
 * Appends @str as a compact JSON string (non-ASCII kept as UTF-8).
 */
void
osc_json_append_quoted(GString *out, const gchar *str)
{
	osc_json_append_string(out, str, OSC_JSON_STYLE_COMPACT);
}

static gint
osc_json_hex4(const gchar *p)
{
	gint v = 0;

	for (guint i = 0; i < 4; i++) {
		gint d = g_ascii_xdigit_value(p[i]);
		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/**
 * osc_json_compact_append:
 * @text: JSON text, e.g. a stored plaintext in Python's json.dumps form
 *
 * The same JSON value, as API responses write it, without building a tree: whitespace
 * between tokens dropped and `\uXXXX` escapes of non-ASCII characters written as UTF-8
 * (escapes of control characters, quotes and lone surrogates stay). The read and list hot
 * paths use this instead of parsing every value with json-glib. @text is validated
 * strictly first; nothing is appended when it is not valid.
 *
 * Returns: %TRUE, or %FALSE with %OSC_ERROR_CORRUPT
 */
gboolean
osc_json_compact_append(GString *out, const gchar *text, gssize len, GError **error)
{
	g_autoptr(GError) error_local = NULL;
	gboolean in_string = FALSE;
	gboolean compact = FALSE;
	gsize n = len < 0 ? strlen(text) : (gsize)len;
	gsize start = out->len;
	gchar *w;

	if (!g_utf8_validate(text, (gssize)n, NULL) ||
	    !osc_json_validate_full(text, n, NULL, &compact, &error_local)) {
		g_set_error(error, OSC_ERROR, OSC_ERROR_CORRUPT, "stored value is not valid JSON%s%s",
			    error_local != NULL ? ": " : "",
			    error_local != NULL ? error_local->message : "");
		return FALSE;
	}
	/* what we store ourselves is compact already */
	if (compact) {
		g_string_append_len(out, text, (gssize)n);
		return TRUE;
	}
	/* the result is never longer: whitespace goes, and an escape (6 or 12 bytes) becomes
	 * at most 4 bytes of UTF-8 */
	g_string_set_size(out, start + n);
	w = out->str + start;
	for (gsize i = 0; i < n; i++) {
		gchar c = text[i];

		if (!in_string) {
			if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
				continue;
			if (c == '"')
				in_string = TRUE;
			*w++ = c;
			continue;
		}
		if (c == '"') {
			in_string = FALSE;
			*w++ = c;
		} else if (c == '\\' && text[i + 1] == 'u') {
			gint cp = osc_json_hex4(text + i + 2);
			gsize used = 6;

			if (cp >= 0xD800 && cp < 0xDC00 && text[i + 6] == '\\' && text[i + 7] == 'u') {
				gint lo = osc_json_hex4(text + i + 8);
				if (lo >= 0xDC00 && lo < 0xE000) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					used = 12;
				}
			}
			if (cp >= 0x80 && (cp < 0xD800 || cp >= 0xE000)) {
				w += g_unichar_to_utf8((gunichar)cp, w);
			} else {
				used = 6;
				memcpy(w, text + i, 6);
				w += 6;
			}
			i += used - 1;
		} else if (c == '\\') {
			*w++ = c;
			*w++ = text[i + 1];
			i++;
		} else {
			*w++ = c;
		}
	}
	g_string_truncate(out, (gsize)(w - out->str));
	return TRUE;
}

/**
 * osc_json_compact:
 *
 * osc_json_compact_append() into a new string.
 *
 * Returns: (transfer full): the compact text, or %NULL with %OSC_ERROR_CORRUPT
 */
gchar *
osc_json_compact(const gchar *text, gssize len, gsize *out_len, GError **error)
{
	GString *out = g_string_sized_new(len < 0 ? strlen(text) : (gsize)len);

	if (!osc_json_compact_append(out, text, len, error)) {
		g_string_free(out, TRUE);
		return NULL;
	}
	if (out_len != NULL)
		*out_len = out->len;
	return g_string_free(out, FALSE);
}

static gchar *
osc_timestamp_format(gint64 unix_usec, gboolean api)
{
	gint64 secs = unix_usec / G_USEC_PER_SEC;
	gint64 usec = unix_usec % G_USEC_PER_SEC;
	g_autoptr(GDateTime) dt = NULL;

	if (usec < 0) {
		secs--;
		usec += G_USEC_PER_SEC;
	}
	dt = g_date_time_new_from_unix_utc(secs);
	if (dt == NULL)
		return g_strdup(api ? "1970-01-01T00:00:00.000000Z" : "1970-01-01 00:00:00.000000");
	return g_strdup_printf("%04d-%02d-%02d%c%02d:%02d:%02d.%06d%s", g_date_time_get_year(dt),
			       g_date_time_get_month(dt), g_date_time_get_day_of_month(dt),
			       api ? 'T' : ' ', g_date_time_get_hour(dt),
			       g_date_time_get_minute(dt), g_date_time_get_second(dt), (gint)usec,
			       api ? "Z" : "");
}

/**
 * osc_timestamp_now_db:
 *
 * Returns: (transfer full): the current UTC time as SQLite stores it (API.md §1.8),
 *   `YYYY-MM-DD HH:MM:SS.ffffff`
 */
gchar *
osc_timestamp_now_db(void)
{
	return osc_timestamp_format(g_get_real_time(), FALSE);
}

/**
 * osc_timestamp_now_api:
 *
 * Returns: (transfer full): the current UTC time as the API shows it,
 *   `YYYY-MM-DDTHH:MM:SS.ffffffZ`
 */
gchar *
osc_timestamp_now_api(void)
{
	return osc_timestamp_format(g_get_real_time(), TRUE);
}

/**
 * osc_timestamp_from_datetime:
 * @dt: a date and time in any zone
 *
 * Returns: (transfer full): @dt in UTC as `YYYY-MM-DDTHH:MM:SS.ffffffZ`
 */
gchar *
osc_timestamp_from_datetime(GDateTime *dt)
{
	g_autoptr(GDateTime) utc = NULL;

	g_return_val_if_fail(dt != NULL, NULL);

	utc = g_date_time_to_utc(dt);
	return g_strdup_printf("%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", g_date_time_get_year(utc),
			       g_date_time_get_month(utc), g_date_time_get_day_of_month(utc),
			       g_date_time_get_hour(utc), g_date_time_get_minute(utc),
			       g_date_time_get_second(utc), g_date_time_get_microsecond(utc));
}

static gboolean
osc_timestamp_digits(const gchar *p, guint n)
{
	for (guint i = 0; i < n; i++) {
		if (!g_ascii_isdigit(p[i]))
			return FALSE;
	}
	return TRUE;
}

/**
 * osc_timestamp_db_to_api:
 * @db_text: a stored timestamp, `YYYY-MM-DD HH:MM:SS[.f…]` (a `T` separator and a trailing
 *   `Z` or `+00:00` are accepted too)
 *
 * Returns: (transfer full): `YYYY-MM-DDTHH:MM:SS.ffffffZ` with exactly six fractional digits,
 *   or a copy of @db_text when it is not a timestamp
 */
gchar *
osc_timestamp_db_to_api(const gchar *db_text)
{
	gchar frac[7] = "000000";
	const gchar *p;

	g_return_val_if_fail(db_text != NULL, NULL);

	/* YYYY-MM-DD?HH:MM:SS */
	if (strlen(db_text) < 19 || !osc_timestamp_digits(db_text, 4) || db_text[4] != '-' ||
	    !osc_timestamp_digits(db_text + 5, 2) || db_text[7] != '-' ||
	    !osc_timestamp_digits(db_text + 8, 2) || (db_text[10] != ' ' && db_text[10] != 'T') ||
	    !osc_timestamp_digits(db_text + 11, 2) || db_text[13] != ':' ||
	    !osc_timestamp_digits(db_text + 14, 2) || db_text[16] != ':' ||
	    !osc_timestamp_digits(db_text + 17, 2))
		return g_strdup(db_text);

	p = db_text + 19;
	if (*p == '.') {
		guint n = 0;

		for (p++; g_ascii_isdigit(*p); p++) {
			/* more than six digits: truncate, microseconds are all we keep */
			if (n < 6)
				frac[n++] = *p;
		}
		if (n == 0)
			return g_strdup(db_text);
	}
	if (g_strcmp0(p, "Z") != 0 && g_strcmp0(p, "+00:00") != 0 && *p != '\0')
		return g_strdup(db_text);

	return g_strdup_printf("%.10sT%.8s.%sZ", db_text, db_text + 11, frac);
}

/* spans of strictly valid JSON (osc_json_validate() ran first): no error paths needed */
gsize
osc_json_skip_ws(const gchar *t, gsize len, gsize i)
{
	while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
		i++;
	return i;
}

gsize
osc_json_skip_string(const gchar *t, gsize len, gsize i)
{
	for (i++; i < len && t[i] != '"'; i++) {
		if (t[i] == '\\')
			i++;
	}
	return i + 1;
}

gsize
osc_json_skip_value(const gchar *t, gsize len, gsize i)
{
	gint depth = 0;

	if (t[i] == '"')
		return osc_json_skip_string(t, len, i);
	if (t[i] != '{' && t[i] != '[') {
		while (i < len && strchr(",}] \t\r\n", t[i]) == NULL)
			i++;
		return i;
	}
	while (i < len) {
		if (t[i] == '"') {
			i = osc_json_skip_string(t, len, i);
			continue;
		}
		if (t[i] == '{' || t[i] == '[')
			depth++;
		else if ((t[i] == '}' || t[i] == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return len;
}

/**
 * osc_json_object_member_span:
 * @text: a strictly valid JSON document (osc_json_validate()) whose root is an object
 * @name: a member name without escapes
 *
 * Finds the value of the root's member @name without building a tree: for request bodies
 * of tens of megabytes. A repeated member: the last one counts, as json.loads and
 * json-glib do.
 *
 * Returns: %TRUE with [*@start, *@end) the value's text when the member is there
 */
gboolean
osc_json_object_member_span(const gchar *text, gsize len, const gchar *name, gsize *start,
			    gsize *end)
{
	gsize name_len = strlen(name);
	gboolean found = FALSE;
	gsize i = osc_json_skip_ws(text, len, 0);

	if (i >= len || text[i] != '{')
		return FALSE;
	i = osc_json_skip_ws(text, len, i + 1);
	while (i < len && text[i] == '"') {
		gsize key_end = osc_json_skip_string(text, len, i);
		gsize value_start = osc_json_skip_ws(text, len,
						     osc_json_skip_ws(text, len, key_end) + 1);
		gsize value_end = osc_json_skip_value(text, len, value_start);

		if (key_end - i == name_len + 2 && memcmp(text + i + 1, name, name_len) == 0) {
			*start = value_start;
			*end = value_end;
			found = TRUE;
		}
		i = osc_json_skip_ws(text, len, value_end);
		if (i < len && text[i] == ',')
			i = osc_json_skip_ws(text, len, i + 1);
	}
	return found;
}

/**
 * osc_json_check_surrogates:
 * @text: strictly valid JSON (osc_json_validate())
 *
 * JSON may escape half of a UTF-16 surrogate pair on its own ("\ud83d"); json-glib then
 * decodes it into bytes that are not UTF-8 and swallows the character after it. Input
 * with one is refused rather than stored changed.
 *
 * Returns: %FALSE with %OSC_ERROR_INVALID_ARGUMENT when a string holds a lone surrogate
 */
gboolean
osc_json_check_surrogates(const gchar *text, gsize len, GError **error)
{
	for (gsize i = 0; i + 5 < len; i++) {
		gint cp, lo;

		if (text[i] != '\\')
			continue;
		if (text[i + 1] != 'u') {
			i++; /* an escaped character, possibly a backslash */
			continue;
		}
		cp = osc_json_hex4(text + i + 2);
		if (cp >= 0xD800 && cp < 0xDC00 && i + 11 < len && text[i + 6] == '\\' &&
		    text[i + 7] == 'u') {
			lo = osc_json_hex4(text + i + 8);
			if (lo >= 0xDC00 && lo < 0xE000) {
				i += 11;
				continue;
			}
		}
		if (cp >= 0xD800 && cp < 0xE000) {
			g_set_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT,
				    "lone UTF-16 surrogate \\u%04x at byte %" G_GSIZE_FORMAT
				    " cannot be stored as text",
				    (guint)cp, i);
			return FALSE;
		}
		i += 5;
	}
	return TRUE;
}
