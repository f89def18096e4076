/*
 * Copyright 2026 The OpenSecureConf Authors
 * SPDX-License-Identifier: Apache-2.0
 */

#define G_LOG_DOMAIN "OscTestValue"

#include "config.h"

#include <math.h>
#include <string.h>

#include "osc-error.h"
#include "osc-value.h"

/*
 * Expected outputs were produced by CPython 3 (the original's runtime):
 *   python = json.dumps(json.loads(input))
 *   compact = json.dumps(json.loads(input), ensure_ascii=False, separators=(",", ":"))
 * i.e. the plaintext the original encrypts (API.md §6.3) and what FastAPI's JSONResponse
 * writes.
 */
typedef struct {
	const gchar *input;
	const gchar *python;
	const gchar *compact;
} JsonCase;

static const JsonCase json_cases[] = {
	{"{\"a\": 1.0, \"b\": [1e-05, 1e16, 0.1, 123456789012345.6], \"c\": \"caff\303\250 "
	 "\360\237\230\200\177\"}",
	 "{\"a\": 1.0, \"b\": [1e-05, 1e+16, 0.1, 123456789012345.6], \"c\": \"caff\\u00e8 "
	 "\\ud83d\\ude00\\u007f\"}",
	 "{\"a\":1.0,\"b\":[1e-05,1e+16,0.1,123456789012345.6],\"c\":\"caff\303\250 "
	 "\360\237\230\200\177\"}"},
	{"{\"host\":\"localhost\",\"port\":5432}", "{\"host\": \"localhost\", \"port\": 5432}",
	 "{\"host\":\"localhost\",\"port\":5432}"},
	{"{}", "{}", "{}"},
	{"[]", "[]", "[]"},
	{"{\"a\":{},\"b\":[[]],\"c\":[{}]}", "{\"a\": {}, \"b\": [[]], \"c\": [{}]}",
	 "{\"a\":{},\"b\":[[]],\"c\":[{}]}"},
	{"{\"b\":1,\"a\":2,\"c\":{\"z\":null,\"y\":true,\"x\":false}}",
	 "{\"b\": 1, \"a\": 2, \"c\": {\"z\": null, \"y\": true, \"x\": false}}",
	 "{\"b\":1,\"a\":2,\"c\":{\"z\":null,\"y\":true,\"x\":false}}"},
	{"\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\"
	 "u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
	 "\\u001d\\u001e\\u001f\"",
	 "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\"
	 "u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
	 "\\u001d\\u001e\\u001f\"",
	 "\"\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\"
	 "u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c"
	 "\\u001d\\u001e\\u001f\""},
	{"\"quote\\\" backslash\\\\ slash/ del\177\"",
	 "\"quote\\\" backslash\\\\ slash/ del\\u007f\"",
	 "\"quote\\\" backslash\\\\ slash/ del\177\""},
	{"\"\302\200\303\277\337\277\340\240\200\357\277\277\360\220\200\200\364\217\277\277 "
	 "\342\202\254 \344\270\255\"",
	 "\"\\u0080\\u00ff\\u07ff\\u0800\\uffff\\ud800\\udc00\\udbff\\udfff \\u20ac \\u4e2d\"",
	 "\"\302\200\303\277\337\277\340\240\200\357\277\277\360\220\200\200\364\217\277\277 "
	 "\342\202\254 \344\270\255\""},
	{"[0.0, -0.0, 1e-05, 0.0001, 1e16, 1e15, 1.5e16, 9999999999999998.0, 1e22, 1e-7, 5e-324]",
	 "[0.0, -0.0, 1e-05, 0.0001, 1e+16, 1000000000000000.0, 1.5e+16, 9999999999999998.0, "
	 "1e+22, 1e-07, 5e-324]",
	 "[0.0,-0.0,1e-05,0.0001,1e+16,1000000000000000.0,1.5e+16,9999999999999998.0,1e+22,1e-07,"
	 "5e-324]"},
	{"[1.7976931348623157e308, 2.2250738585072014e-308, 0.30000000000000004, 100.0, 123.456, "
	 "-2.5]",
	 "[1.7976931348623157e+308, 2.2250738585072014e-308, 0.30000000000000004, 100.0, 123.456, "
	 "-2.5]",
	 "[1.7976931348623157e+308,2.2250738585072014e-308,0.30000000000000004,100.0,123.456,-2."
	 "5]"},
	{"[1e300, 3.14159, 0.3333333333333333, 0.6666666666666666, 1e23, 12345.678e-3, 0.000123, "
	 "-1.5e-10]",
	 "[1e+300, 3.14159, 0.3333333333333333, 0.6666666666666666, 1e+23, 12.345678, 0.000123, "
	 "-1.5e-10]",
	 "[1e+300,3.14159,0.3333333333333333,0.6666666666666666,1e+23,12.345678,0.000123,-1.5e-"
	 "10]"},
	{"[0, -1, 9223372036854775807, -9223372036854775808, 9007199254740993]",
	 "[0, -1, 9223372036854775807, -9223372036854775808, 9007199254740993]",
	 "[0,-1,9223372036854775807,-9223372036854775808,9007199254740993]"},
	{"[true, false, null, \"\", \"x\"]", "[true, false, null, \"\", \"x\"]",
	 "[true,false,null,\"\",\"x\"]"},
	{"{\"cl\303\251\":{\"\360\237\230\200\":[1,{\"n\":null}]}}",
	 "{\"cl\\u00e9\": {\"\\ud83d\\ude00\": [1, {\"n\": null}]}}",
	 "{\"cl\303\251\":{\"\360\237\230\200\":[1,{\"n\":null}]}}"},
	{"  {\012  \"spaced\" :\011[ 1 , 2 ]\012}  ", "{\"spaced\": [1, 2]}", "{\"spaced\":[1,2]}"},
};

/* random doubles by bit pattern, with CPython's repr() of each */
typedef struct {
	guint64 bits;
	const gchar *repr;
} DoubleCase;

static const DoubleCase double_cases[] = {
	{G_GUINT64_CONSTANT(0x1c80317fa3b1799d), "2.0951218323850843e-171"},
	{G_GUINT64_CONSTANT(0xbdd640fb06671ad1), "-8.095896314512539e-11"},
	{G_GUINT64_CONSTANT(0x3eb13b9046685257), "1.0271471865319853e-06"},
	{G_GUINT64_CONSTANT(0x23b8c1e9392456de), "1.3305406583752764e-136"},
	{G_GUINT64_CONSTANT(0x1a3d1fa7bc8960a9), "2.7416277501616697e-182"},
	{G_GUINT64_CONSTANT(0xbd9c66b3ad3c2d6d), "-6.4576804899972755e-12"},
	{G_GUINT64_CONSTANT(0x8b9d2434e465e150), "-9.936982866895821e-253"},
	{G_GUINT64_CONSTANT(0x972a846916419f82), "-4.4342582195166703e-197"},
	{G_GUINT64_CONSTANT(0x0822e8f36c031199), "1.7897179706846397e-269"},
	{G_GUINT64_CONSTANT(0x17fc695a07a0ca6e), "3.8920410665109616e-193"},
	{G_GUINT64_CONSTANT(0x3b8faa1837f8a88b), "8.3815053749933375e-22"},
	{G_GUINT64_CONSTANT(0x9a1de644815ef6d1), "-7.0366560133932934e-183"},
	{G_GUINT64_CONSTANT(0x8fadc1a606cb0fb3), "-3.74346981262903e-233"},
	{G_GUINT64_CONSTANT(0xb74d0fb132e70629), "-2.6063073077576445e-42"},
	{G_GUINT64_CONSTANT(0xb38a088ca65ed389), "-2.025077774461046e-60"},
	{G_GUINT64_CONSTANT(0x6b65a6a48b8148f6), "2.2243541059934106e+209"},
	{G_GUINT64_CONSTANT(0x72ff5d2a386ecbe0), "8.566174015121906e+245"},
	{G_GUINT64_CONSTANT(0x4737819096da1dac), "1.2205071412701158e+35"},
	{G_GUINT64_CONSTANT(0xde8a774bcf36d58b), "-2.6438463592029654e+147"},
	{G_GUINT64_CONSTANT(0xc241330b01a9e71f), "-147741606739.80563"},
	{G_GUINT64_CONSTANT(0x28df6ec4ce4a2bbd), "8.168892449408124e-112"},
	{G_GUINT64_CONSTANT(0x6c307511b2b9437a), "1.3850822627547856e+213"},
	{G_GUINT64_CONSTANT(0x47229389571aa876), "4.82268694405258e+34"},
	{G_GUINT64_CONSTANT(0x371ecd7b27cd8130), "3.4530976632468286e-43"},
	{G_GUINT64_CONSTANT(0xc37459eef50bea63), "-9.165411812000722e+16"},
	{G_GUINT64_CONSTANT(0x1a2a73ed562b0f79), "1.245102053364068e-182"},
	{G_GUINT64_CONSTANT(0x6142ea7d17be3111), "3.3242704709371837e+160"},
	{G_GUINT64_CONSTANT(0x5be6128e18c26797), "5.013479291044358e+134"},
	{G_GUINT64_CONSTANT(0x580d7b71d8f56413), "1.4520725756704513e+116"},
	{G_GUINT64_CONSTANT(0x43b7a3a69a8dca03), "1.7033882668101804e+18"},
	{G_GUINT64_CONSTANT(0x0b1f9163ce9ff57f), "4.2048429468447037e-255"},
	{G_GUINT64_CONSTANT(0x759cde66bacfb3d0), "3.467722627586937e+258"},
	{G_GUINT64_CONSTANT(0x1ff49b7889463e85), "9.606020282432862e-155"},
	{G_GUINT64_CONSTANT(0xec1b8ca1f91e1d4c), "-5.796532266416865e+212"},
	{G_GUINT64_CONSTANT(0x142c3fe860e7a113), "1.678285985249165e-211"},
	{G_GUINT64_CONSTANT(0x4b0dbb418d5288f1), "3.559636223270555e+53"},
	{G_GUINT64_CONSTANT(0xa0ee89aed453dd32), "-4.6645554400601785e-150"},
	{G_GUINT64_CONSTANT(0xe2acf72f9e574f7a), "-2.135058088242266e+167"},
	{G_GUINT64_CONSTANT(0x5c941cf0dc98d2c1), "9.356124026369747e+137"},
	{G_GUINT64_CONSTANT(0x3139d32c93cd59bf), "1.4616374818865636e-71"},
	{G_GUINT64_CONSTANT(0x11ce5dd2b45ed1f0), "6.563083173032833e-223"},
	{G_GUINT64_CONSTANT(0xa9488d990bbb2599), "-8.167670639936238e-110"},
	{G_GUINT64_CONSTANT(0xc5e7ce8a3a578a8e), "-5.894277366020282e+28"},
	{G_GUINT64_CONSTANT(0xfc377a4c4a15544d), "-2.2879781783174108e+290"},
	{G_GUINT64_CONSTANT(0xdaf61a26146d3f31), "-1.5320485900097169e+130"},
	{G_GUINT64_CONSTANT(0xddd1dfb23b982ef8), "-8.718367338387145e+143"},
	{G_GUINT64_CONSTANT(0x614ff3d719db3ad0), "5.615294812803369e+160"},
	{G_GUINT64_CONSTANT(0x7412b29347294739), "1.3386940453763434e+251"},
	{G_GUINT64_CONSTANT(0x41b02cc2b8800000), "271368888.5"},
	{G_GUINT64_CONSTANT(0xc0a448c2e5de15ca), "-2596.38066"},
	{G_GUINT64_CONSTANT(0xbfddd2f1a9fbe76d), "-0.466"},
	{G_GUINT64_CONSTANT(0x40da5ceccccccccd), "26995.7"},
	{G_GUINT64_CONSTANT(0xc0f26d793886594b), "-75479.5763"},
	{G_GUINT64_CONSTANT(0x40e2600c88b97785), "37632.39169"},
	{G_GUINT64_CONSTANT(0x8000000000000000), "-0.0"},
	{G_GUINT64_CONSTANT(0x418eb082366872b0), "64360518.801"},
	{G_GUINT64_CONSTANT(0xc0b2252eb851eb85), "-4645.1825"},
	{G_GUINT64_CONSTANT(0x4191f254d5333333), "75273525.3"},
	{G_GUINT64_CONSTANT(0x41e72983b73cb924), "3108773305.8976"},
	{G_GUINT64_CONSTANT(0xc0f41784cccccccd), "-82296.3"},
	{G_GUINT64_CONSTANT(0xc11eede3f03d9a95), "-506744.98461"},
	{G_GUINT64_CONSTANT(0x41d935661f1e147b), "1691719804.47"},
	{G_GUINT64_CONSTANT(0xc04c1161e4f765fe), "-56.1358"},
	{G_GUINT64_CONSTANT(0xbf554003254e6e22), "-0.001297"},
};

static JsonNode *
parse_or_die(const gchar *text)
{
	g_autoptr(GError) error = NULL;
	JsonNode *node = osc_value_parse(text, -1, &error);

	g_assert_no_error(error);
	g_assert_nonnull(node);
	return node;
}

static gchar *
python_json(JsonNode *node)
{
	gsize len = 0;
	gchar *text = osc_value_to_python_json(node, &len);

	g_assert_cmpuint(len, ==, strlen(text));
	return text;
}

static void
test_value_python_json(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(json_cases); i++) {
		g_autoptr(JsonNode) node = parse_or_die(json_cases[i].input);
		g_autofree gchar *text = python_json(node);

		g_test_message("case %u: %s", i, json_cases[i].input);
		g_assert_cmpstr(text, ==, json_cases[i].python);
		/* the plaintext is pure ASCII */
		for (const gchar *p = text; *p != '\0'; p++)
			g_assert_cmpint((guchar)*p, <, 0x7f);
	}
}

static void
test_value_python_json_example(void)
{
	/* API.md §6.5: the plaintext of the user-data test vector */
	g_autoptr(JsonNode) node = parse_or_die("{\"host\":\"localhost\",\"port\":5432}");
	g_autofree gchar *text = python_json(node);
	g_autoptr(JsonNode) built = json_node_new(JSON_NODE_OBJECT);
	g_autoptr(JsonObject) obj = json_object_new();
	g_autofree gchar *text2 = NULL;

	g_assert_cmpstr(text, ==, "{\"host\": \"localhost\", \"port\": 5432}");

	/* member order is insertion order, not sorted */
	json_object_set_int_member(obj, "port", 5432);
	json_object_set_string_member(obj, "host", "localhost");
	json_node_set_object(built, obj);
	text2 = python_json(built);
	g_assert_cmpstr(text2, ==, "{\"port\": 5432, \"host\": \"localhost\"}");
}

static void
test_value_python_json_doubles(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(double_cases); i++) {
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_VALUE);
		g_autofree gchar *text = NULL;
		g_autofree gchar *compact = NULL;
		gdouble d;

		memcpy(&d, &double_cases[i].bits, sizeof(d));
		json_node_set_double(node, d);
		text = python_json(node);
		g_assert_cmpstr(text, ==, double_cases[i].repr);
		compact = osc_json_to_string(node, NULL);
		g_assert_cmpstr(compact, ==, double_cases[i].repr);
		/* and it reads back as the same double */
		g_assert_true(g_ascii_strtod(text, NULL) == d);
	}
}

/* significant digits of a repr: leading zeros and the exponent do not count */
static guint
n_digits_significant(const gchar *text)
{
	guint n = 0;
	guint trailing_zeros = 0;
	gboolean started = FALSE;

	for (const gchar *p = text; *p != '\0' && *p != 'e'; p++) {
		if (!g_ascii_isdigit(*p))
			continue;
		if (*p != '0')
			started = TRUE;
		if (!started)
			continue;
		n++;
		trailing_zeros = *p == '0' ? trailing_zeros + 1 : 0;
	}
	return n - trailing_zeros;
}

static void
test_value_python_json_random_doubles(void)
{
	/* no Python at test time: check repr's contract instead, on random bit patterns */
	for (guint i = 0; i < 20000; i++) {
		g_autoptr(JsonNode) node = json_node_new(JSON_NODE_VALUE);
		g_autofree gchar *text = NULL;
		guint64 bits = (guint64)g_test_rand_int() << 32 | (guint32)g_test_rand_int();
		guint n;
		gdouble d;

		memcpy(&d, &bits, sizeof(d));
		if (!isfinite(d))
			continue;
		json_node_set_double(node, d);
		text = python_json(node);
		g_assert_true(g_regex_match_simple(
			"^-?([0-9]+\\.[0-9]+|[0-9](\\.[0-9]+)?e[-+][0-9]{2,3})$", text, 0, 0));
		/* reads back as the same double ... */
		g_assert_true(g_ascii_strtod(text, NULL) == d);
		/* ... and one significant digit fewer would not */
		n = n_digits_significant(text);
		g_assert_cmpuint(n, <=, 17);
		if (n > 1) {
			gchar shorter[G_ASCII_DTOSTR_BUF_SIZE];
			g_autofree gchar *fmt = g_strdup_printf("%%.%ue", n - 2);
			g_ascii_formatd(shorter, sizeof(shorter), fmt, d);
			g_assert_true(g_ascii_strtod(shorter, NULL) != d);
		}
	}
}

static void
test_value_compact(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(json_cases); i++) {
		g_autoptr(JsonNode) node = parse_or_die(json_cases[i].input);
		gsize len = 0;
		g_autofree gchar *text = osc_json_to_string(node, &len);

		g_test_message("case %u: %s", i, json_cases[i].input);
		g_assert_cmpstr(text, ==, json_cases[i].compact);
		g_assert_cmpuint(len, ==, strlen(text));
		/* valid JSON that reads back to the same thing */
		{
			g_autoptr(JsonNode) again = parse_or_die(text);
			g_autofree gchar *text2 = osc_json_to_string(again, NULL);
			g_assert_cmpstr(text2, ==, text);
		}
	}
}

/* the text-level compaction of stored plaintexts (the read and list paths) */
/* integers of any size (API.md §3.3) survive a parse and both writers unchanged, although
 * json-glib wraps them; a string never turns into one */
static void
test_value_big_ints(void)
{
	static const struct {
		const gchar *in;
		const gchar *compact;
		const gchar *python;
	} cases[] = {
	    {"12345678901234567890123", "12345678901234567890123", "12345678901234567890123"},
	    {"[9223372036854775808, -9223372036854775809, 9223372036854775807]",
	     "[9223372036854775808,-9223372036854775809,9223372036854775807]",
	     "[9223372036854775808, -9223372036854775809, 9223372036854775807]"},
	    {"{\"id\": 18446744073709551616, \"s\": \"18446744073709551616\", \"n\": [1e2, "
	     "100000000000000000000000000000]}",
	     "{\"id\":18446744073709551616,\"s\":\"18446744073709551616\",\"n\":[100.0,"
	     "100000000000000000000000000000]}",
	     "{\"id\": 18446744073709551616, \"s\": \"18446744073709551616\", \"n\": [100.0, "
	     "100000000000000000000000000000]}"},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = osc_value_parse(cases[i].in, -1, &error);
		g_autofree gchar *compact = NULL;
		g_autofree gchar *python = NULL;

		g_test_message("case %u: %s", i, cases[i].in);
		g_assert_no_error(error);
		g_assert_true(osc_json_validate(cases[i].in, -1, NULL));
		compact = osc_json_to_string(node, NULL);
		python = osc_value_to_python_json(node, NULL);
		g_assert_cmpstr(compact, ==, cases[i].compact);
		g_assert_cmpstr(python, ==, cases[i].python);
	}
	/* the node of one is not a string, and a string of the same digits stays a string */
	{
		const gchar *big_text = "123456789012345678901234567890";
		const gchar *str_text = "\"123456789012345678901234567890\"";
		const gchar *ctl_in = "\"\\u0001big:1\"";
		g_autoptr(JsonNode) big = osc_json_parse(big_text, strlen(big_text), NULL);
		g_autoptr(JsonNode) str = osc_json_parse(str_text, strlen(str_text), NULL);
		g_autoptr(JsonNode) ctl = osc_json_parse(ctl_in, strlen(ctl_in), NULL);
		g_autofree gchar *ctl_text = NULL;

		g_assert_true(osc_json_node_is_big_int(big));
		g_assert_false(osc_json_node_is_big_int(str));
		g_assert_false(osc_json_node_is_big_int(ctl));
		ctl_text = osc_json_to_string(ctl, NULL);
		g_assert_cmpstr(ctl_text, ==, "\"\\u0001big:1\"");
	}
}

static void
test_value_compact_text(void)
{
	static const struct {
		const gchar *in;
		const gchar *out;
	} cases[] = {
		{"{\"a\": 1, \"b\": [true, null]}", "{\"a\":1,\"b\":[true,null]}"},
		{" [1] ", "[1]"},
		{"[\"x y\", {\"k\" : \"v\\n\"}]", "[\"x y\",{\"k\":\"v\\n\"}]"},
		{"\"caf\\u00e9\"", "\"caf\xc3\xa9\""},
		{"\"\\ud83d\\ude00 \"", "\"\xf0\x9f\x98\x80 \""},
		{"\"\\u0041\\u001f\"", "\"\\u0041\\u001f\""},
		{"\"\\ud83d x\"", "\"\\ud83d x\""},
		/* already compact: copied as it is */
		{"{\"a\":\"b \\\" \\\\ c\",\"n\":-1.5e3}", "{\"a\":\"b \\\" \\\\ c\",\"n\":-1.5e3}"},
		{"\"\xc3\xa9\"", "\"\xc3\xa9\""},
		/* integers of any size (the original stores them): only copied, so kept */
		{"{\"big\": 1180591620717411303424, \"neg\": [-9223372036854775809]}",
		 "{\"big\":1180591620717411303424,\"neg\":[-9223372036854775809]}"},
		{"12345678901234567890123", "12345678901234567890123"},
	};


	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GString) out = g_string_new("prefix:");
		g_autoptr(GError) error = NULL;

		g_test_message("case %u: %s", i, cases[i].in);
		g_assert_true(osc_json_compact_append(out, cases[i].in, -1, &error));
		g_assert_no_error(error);
		g_assert_true(g_str_has_prefix(out->str, "prefix:"));
		g_assert_cmpstr(out->str + 7, ==, cases[i].out);
		g_assert_cmpuint(strlen(out->str), ==, out->len);
	}
	/* the original's plaintexts (Python's json.dumps) come out as the API writes values */
	for (guint i = 0; i < G_N_ELEMENTS(json_cases); i++) {
		g_autoptr(GError) error = NULL;
		g_autofree gchar *from_python = osc_json_compact(json_cases[i].python, -1, NULL, &error);
		g_autofree gchar *again = NULL;

		g_assert_no_error(error);
		again = osc_json_compact(from_python, -1, NULL, &error);
		g_assert_no_error(error);
		g_assert_cmpstr(again, ==, from_python);
		g_assert_null(strchr(from_python, '\n'));
	}
	/* invalid text: an error, and nothing written */
	{
		g_autoptr(GString) out = g_string_new("x");
		g_autoptr(GError) error = NULL;

		g_assert_false(osc_json_compact_append(out, "[1, 2", -1, &error));
		g_assert_error(error, OSC_ERROR, OSC_ERROR_CORRUPT);
		g_assert_cmpstr(out->str, ==, "x");
		g_clear_error(&error);
		g_assert_false(osc_json_compact_append(out, "\"\xff\"", -1, &error));
		g_assert_error(error, OSC_ERROR, OSC_ERROR_CORRUPT);
		g_assert_cmpstr(out->str, ==, "x");
	}
}

static void
test_value_parse_round_trip(void)
{
	for (guint i = 0; i < G_N_ELEMENTS(json_cases); i++) {
		g_autoptr(JsonNode) node = parse_or_die(json_cases[i].python);
		g_autofree gchar *text = python_json(node);

		/* the original's plaintext parses back to itself */
		g_assert_cmpstr(text, ==, json_cases[i].python);
	}
}

static void
test_value_parse_invalid(void)
{
	const gchar *invalid[] = {
		"",
		"   ",
		"[1,2",
		"{\"a\":}",
		"1 2",
		"NaN",
		"Infinity",
		"{'a': 1}",
		"/* comment */ 1",
		"0x10",
		"[01]",
		"\"a\\u0000b\"",
		"\"\xff\"",
		"{\"caf\xc3\":1}",
		"\xed\xa0\x80", /* an encoded surrogate is not UTF-8 */
		"1e400",
		"{\"a\": -1e400}",
	};

	for (guint i = 0; i < G_N_ELEMENTS(invalid); i++) {
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) node = osc_value_parse(invalid[i], -1, &error);

		g_autofree gchar *escaped = g_strescape(invalid[i], NULL);

		g_test_message("invalid %u: %s", i, escaped);
		g_assert_error(error, OSC_ERROR, OSC_ERROR_CORRUPT);
		g_assert_null(node);
		g_assert_true(g_str_has_prefix(error->message, "stored value is not valid JSON"));
	}
}

static void
test_value_parse_len(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) node = osc_value_parse("[1]garbage", 3, &error);
	g_autoptr(JsonNode) node2 = NULL;
	g_autofree gchar *text = NULL;
	const gchar with_nul[] = "[1]\0[2]";

	g_assert_no_error(error);
	text = python_json(node);
	g_assert_cmpstr(text, ==, "[1]");

	/* an embedded NUL inside @len is not JSON */
	node2 = osc_value_parse(with_nul, sizeof(with_nul) - 1, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_CORRUPT);
	g_assert_null(node2);
}

static void
test_value_validate(void)
{
	const gchar *ok[] = {
		"[9223372036854775807, -9223372036854775808, 1.7976931348623157e308, 5e-324, "
		"1e-400]",
		"{\"12345678901234567890123\": \"99999999999999999999999 \\\" 1e400\"}",
		"[0, -0, 0.5, -1E+5, 1e5, 2E-3]",
		" \t\r\n{ \"a\" : [ ] , \"b\" : { } } \n",
		"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e8\\uD83D\\uDE00\"",
		"true",
		"null",
		"\"caff\xc3\xa8\"",
		/* integers of any size: osc_json_parse() keeps them */
		"[99999999999999999999]",
		"[-9223372036854775809]",
	};
	const gchar *bad[] = {
		"[1E400]",
		"[\"\\\\\", 1e999]",
		"{'a': 1}",
		"/* c */ 1",
		"0x10",
		"[01]",
		"[1.]",
		"[.5]",
		"[-]",
		"+1",
		"[1,]",
		"{\"a\":1,}",
		"{a:1}",
		"\"a\tb\"",
		"\"\\x41\"",
		"\"\\'\"",
		"\"\\u12\"",
		"\"a\\u0000b\"",
		"[1 2]",
		"[true false]",
		"tru",
		"nul",
		"\"open",
		"[",
		"{\"a\" 1}",
		"1 2",
		"",
		"  ",
	};
	GString *deep = g_string_new(NULL);

	for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
		g_autoptr(GError) error = NULL;
		g_test_message("ok %u: %s", i, ok[i]);
		g_assert_true(osc_json_validate(ok[i], -1, &error));
		g_assert_no_error(error);
	}
	for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autoptr(GError) error = NULL;
		g_test_message("bad %u: %s", i, bad[i]);
		g_assert_false(osc_json_validate(bad[i], -1, &error));
		g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	}

	/* nesting: 1000 levels are fine, 1001 are not */
	for (guint i = 0; i < 1000; i++)
		g_string_append_c(deep, '[');
	for (guint i = 0; i < 1000; i++)
		g_string_append_c(deep, ']');
	g_assert_true(osc_json_validate(deep->str, deep->len, NULL));
	g_string_prepend_c(deep, '[');
	g_string_append_c(deep, ']');
	g_assert_false(osc_json_validate(deep->str, deep->len, NULL));
	g_string_free(deep, TRUE);
}

typedef struct {
	const gchar *input;
	const gchar *output; /* NULL = rejected */
	gboolean is_int;
} NormalizeCase;

static void
test_value_normalize(void)
{
	const NormalizeCase cases[] = {
		{"{\"a\": 2.5, \"b\": null, \"c\": [5.0, 1e300]}",
		 "{\"a\": 2.5, \"b\": null, \"c\": [5.0, 1e+300]}", FALSE},
		{"{}", "{}", FALSE},
		{"[]", "[]", FALSE},
		{"[1.0, null, 2.5]", "[1.0, null, 2.5]", FALSE},
		{"\"text\"", "\"text\"", FALSE},
		{"\"\"", "\"\"", FALSE},
		{"true", "true", FALSE},
		{"false", "false", FALSE},
		{"42", "42", TRUE},
		{"-7", "-7", TRUE},
		{"9223372036854775807", "9223372036854775807", TRUE},
		{"5.0", "5", TRUE},
		{"-3.0", "-3", TRUE},
		{"0.0", "0", TRUE},
		{"-0.0", "0", TRUE},
		{"1e3", "1000", TRUE},
		{"-9223372036854775808.0", "-9223372036854775808", TRUE},
		{"9223372036854775808.0", NULL, FALSE},
		{"2.5", NULL, FALSE},
		{"-0.5", NULL, FALSE},
		{"1e300", NULL, FALSE},
		{"1e-300", NULL, FALSE},
		{"null", NULL, FALSE},
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(JsonNode) node = parse_or_die(cases[i].input);
		g_autoptr(GError) error = NULL;
		g_autoptr(JsonNode) result = osc_value_normalize(node, &error);
		g_autofree gchar *text = NULL;

		g_test_message("normalize %u: %s", i, cases[i].input);
		if (cases[i].output == NULL) {
			g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
			g_assert_cmpstr(error->message, ==,
					"value must be an object, string, integer, boolean or "
					"array");
			g_assert_null(result);
			continue;
		}
		g_assert_no_error(error);
		g_assert_nonnull(result);
		text = python_json(result);
		g_assert_cmpstr(text, ==, cases[i].output);
		if (cases[i].is_int)
			g_assert_cmpint(json_node_get_value_type(result), ==, G_TYPE_INT64);
		/* the input is never changed */
		{
			g_autofree gchar *orig = python_json(node);
			g_autoptr(JsonNode) again = parse_or_die(cases[i].input);
			g_autofree gchar *expect = python_json(again);
			g_assert_cmpstr(orig, ==, expect);
		}
	}
}

static void
test_value_normalize_special(void)
{
	g_autoptr(GError) error = NULL;
	g_autoptr(JsonNode) result = NULL;
	g_autoptr(JsonNode) nested_inf = NULL;
	g_autoptr(JsonNode) inf = json_node_init_double(json_node_alloc(), INFINITY);
	g_autoptr(JsonArray) array = json_array_new();

	/* NULL */
	result = osc_value_normalize(NULL, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_assert_null(result);
	g_clear_error(&error);

	/* a top-level infinity and a nested one (json-glib reads 1e400 nested as inf) */
	result = osc_value_normalize(inf, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_assert_null(result);
	g_clear_error(&error);

	json_array_add_double_element(array, -INFINITY);
	nested_inf = json_node_init_array(json_node_alloc(), array);
	result = osc_value_normalize(nested_inf, &error);
	g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	g_assert_null(result);
}

static gboolean
ts_matches(const gchar *pattern, const gchar *text)
{
	return g_regex_match_simple(pattern, text, 0, 0);
}

static void
test_value_timestamps(void)
{
	const struct {
		const gchar *db;
		const gchar *api;
	} cases[] = {
		{"2023-11-14 22:00:00.123456", "2023-11-14T22:00:00.123456Z"},
		{"2023-11-14 22:00:00", "2023-11-14T22:00:00.000000Z"},
		{"2023-11-14 22:00:00.5", "2023-11-14T22:00:00.500000Z"},
		{"2023-11-14 22:00:00.000001", "2023-11-14T22:00:00.000001Z"},
		{"2023-11-14T22:00:00.123Z", "2023-11-14T22:00:00.123000Z"},
		{"2023-11-14 22:00:00+00:00", "2023-11-14T22:00:00.000000Z"},
		{"2023-11-14 22:00:00.1234567", "2023-11-14T22:00:00.123456Z"},
		{"garbage", "garbage"},
		{"", ""},
		{"2023-11-14 22:00:00.", "2023-11-14 22:00:00."},
		{"2023-11-14 22:00:00x", "2023-11-14 22:00:00x"},
		{"2023-11-14", "2023-11-14"},
		{"2023/11/14 22:00:00", "2023/11/14 22:00:00"},
	};
	g_autofree gchar *now_db = osc_timestamp_now_db();
	g_autofree gchar *now_api = osc_timestamp_now_api();
	g_autofree gchar *now_conv = osc_timestamp_db_to_api(now_db);
	g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc(1700000000);
	g_autoptr(GDateTime) utc_us = g_date_time_add(utc, 123456);
	g_autoptr(GTimeZone) tz = g_time_zone_new_offset(2 * 3600);
	g_autoptr(GDateTime) local = g_date_time_to_timezone(utc_us, tz);
	g_autofree gchar *from_local = osc_timestamp_from_datetime(local);
	g_autoptr(GDateTime) whole = g_date_time_new_from_unix_utc(1700000000);
	g_autofree gchar *from_whole = osc_timestamp_from_datetime(whole);

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree gchar *api = osc_timestamp_db_to_api(cases[i].db);
		g_assert_cmpstr(api, ==, cases[i].api);
	}

	g_assert_true(ts_matches("^\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{6}$", now_db));
	g_assert_true(ts_matches("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z$", now_api));
	g_assert_true(
		ts_matches("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z$", now_conv));
	g_assert_cmpint(strncmp(now_conv, now_db, 10), ==, 0);
	g_assert_cmpint(strncmp(now_conv + 11, now_db + 11, 15), ==, 0);

	/* 1700000000 = 2023-11-14 22:13:20 UTC, shown from UTC+2 */
	g_assert_cmpstr(from_local, ==, "2023-11-14T22:13:20.123456Z");
	g_assert_cmpstr(from_whole, ==, "2023-11-14T22:13:20.000000Z");
}

static void
test_value_timestamps_now_is_utc(void)
{
	g_autofree gchar *db = osc_timestamp_now_db();
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree gchar *date = g_date_time_format(now, "%Y-%m-%d %H:%M");

	/* the same minute, barring a tick across the boundary */
	if (g_date_time_get_second(now) < 59)
		g_assert_cmpint(strncmp(db, date, 16), ==, 0);
}

static void
test_value_member_span(void)
{
	const gchar *doc = " { \"a\" : [1, {\"x\": \"}\"}], \"backup_data\":\"one\", "
			   "\"nested\": {\"backup_data\": 5}, \"backup_data\" : \"two\" } ";
	gsize len = strlen(doc), start = 0, end = 0;

	g_assert_true(osc_json_validate(doc, -1, NULL));
	/* the last of a repeated member; a nested one of the same name does not count */
	g_assert_true(osc_json_object_member_span(doc, len, "backup_data", &start, &end));
	g_assert_cmpmem(doc + start, end - start, "\"two\"", 5);
	g_assert_true(osc_json_object_member_span(doc, len, "a", &start, &end));
	g_assert_cmpmem(doc + start, end - start, "[1, {\"x\": \"}\"}]", 15);
	g_assert_false(osc_json_object_member_span(doc, len, "x", &start, &end));
	g_assert_false(osc_json_object_member_span(doc, len, "backup", &start, &end));
	g_assert_false(osc_json_object_member_span("[1]", 3, "a", &start, &end));
}

static void
test_value_surrogates(void)
{
	static const struct {
		const gchar *json;
		gboolean ok;
	} cases[] = {
		{"\"plain\"", TRUE},
		{"\"\\ud83d\\ude00\"", TRUE},		/* a pair: 😀 */
		{"[\"a\\u00e9\", \"\\uffff\"]", TRUE}, /* not surrogates */
		{"\"\\\\ud83d\"", TRUE},		/* an escaped backslash, then text */
		{"\"x\\ud83dy\"", FALSE},		/* high alone */
		{"\"\\ude00\"", FALSE},		/* low alone */
		{"{\"k\\ud83d\": 1}", FALSE},		/* in a member name */
		{"\"\\ud83d\\u0041\"", FALSE},	/* high, then not a low */
		{"\"\\ud83d\"", FALSE},		/* high at the end */
	};

	for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GError) error = NULL;

		g_test_message("%s", cases[i].json);
		g_assert_true(osc_json_validate(cases[i].json, -1, NULL));
		g_assert_cmpint(osc_json_check_surrogates(cases[i].json, strlen(cases[i].json),
							  &error),
				==, cases[i].ok);
		if (!cases[i].ok)
			g_assert_error(error, OSC_ERROR, OSC_ERROR_INVALID_ARGUMENT);
	}
}

int
main(int argc, char **argv)
{
	g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

	g_test_add_func("/osc/value/normalize", test_value_normalize);
	g_test_add_func("/osc/value/normalize-special", test_value_normalize_special);
	g_test_add_func("/osc/value/python-json", test_value_python_json);
	g_test_add_func("/osc/value/python-json-example", test_value_python_json_example);
	g_test_add_func("/osc/value/python-json-doubles", test_value_python_json_doubles);
	g_test_add_func("/osc/value/python-json-random-doubles",
			test_value_python_json_random_doubles);
	g_test_add_func("/osc/value/compact", test_value_compact);
	g_test_add_func("/osc/value/compact-text", test_value_compact_text);
	g_test_add_func("/osc/value/big-ints", test_value_big_ints);
	g_test_add_func("/osc/value/parse-round-trip", test_value_parse_round_trip);
	g_test_add_func("/osc/value/parse-invalid", test_value_parse_invalid);
	g_test_add_func("/osc/value/parse-len", test_value_parse_len);
	g_test_add_func("/osc/value/validate", test_value_validate);
	g_test_add_func("/osc/value/member-span", test_value_member_span);
	g_test_add_func("/osc/value/surrogates", test_value_surrogates);
	g_test_add_func("/osc/value/timestamps", test_value_timestamps);
	g_test_add_func("/osc/value/timestamps-now-utc", test_value_timestamps_now_is_utc);
	return g_test_run();
}
