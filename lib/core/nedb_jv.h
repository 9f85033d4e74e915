/*
 * nedb_jv.h - jq's jv and jq APIs, loaded on first use.
 *
 * libjq (and oniguruma behind it) costs a third of a millisecond at
 * every process start, which is a third of a HEAD read's budget.  So no
 * nedb binary links it: the first jv or jq call made through this header
 * dlopen()s libjq.so.1 and resolves every symbol below.  Code includes
 * this header instead of <jv.h> and calls jv as usual; the macros route
 * each call through the table.  If libjq cannot be loaded the process
 * exits with status 5 and a message (it is a declared dependency).
 */
#ifndef NEDB_JV_H
#define NEDB_JV_H

#include <jv.h>
#include <jq.h>

#define NEDB_JV_FUNCS(X) \
	X(jv_parse_sized) \
	X(jv_get_kind) \
	X(jv_kind_name) \
	X(jv_invalid_get_msg) \
	X(jv_invalid_has_msg) \
	X(jv_free) \
	X(jv_copy) \
	X(jv_string_value) \
	X(jv_string_length_bytes) \
	X(jv_string_sized) \
	X(jv_string) \
	X(jv_number_value) \
	X(jv_number) \
	X(jv_null) \
	X(jv_true) \
	X(jv_false) \
	X(jv_bool) \
	X(jv_object) \
	X(jv_object_get) \
	X(jv_object_has) \
	X(jv_object_set) \
	X(jv_object_delete) \
	X(jv_object_length) \
	X(jv_object_iter) \
	X(jv_object_iter_next) \
	X(jv_object_iter_valid) \
	X(jv_object_iter_key) \
	X(jv_object_iter_value) \
	X(jv_array) \
	X(jv_array_length) \
	X(jv_array_get) \
	X(jv_array_append) \
	X(jv_array_set) \
	X(jv_equal) \
	X(jv_identical) \
	X(jv_cmp) \
	X(jv_dump_string) \
	X(jv_dump) \
	X(jv_dumpf) \
	X(jv_parser_new) \
	X(jv_parser_free) \
	X(jv_parser_set_buf) \
	X(jv_parser_next) \
	X(jv_invalid) \
	X(jv_invalid_with_msg) \
	X(jv_keys) \
	X(jv_sort) \
	X(jv_contains) \
	X(jv_string_fmt) \
	X(jv_dump_string_trunc) \
	X(jv_is_integer) \
	X(jv_string_concat) \
	X(jv_array_concat) \
	X(jv_object_merge) \
	X(jq_init) \
	X(jq_teardown) \
	X(jq_compile) \
	X(jq_compile_args) \
	X(jq_start) \
	X(jq_next) \
	X(jq_set_error_cb) \
	X(jq_halted) \
	X(jq_get_exit_code) \
	X(jq_set_attr) \
	X(jq_get_error_message)

struct nedb_jv_table {
#define NEDB_JV_SLOT(f) __typeof__(f) *f;
	NEDB_JV_FUNCS(NEDB_JV_SLOT)
#undef NEDB_JV_SLOT
};

extern struct nedb_jv_table *nedb__jvt __attribute__((visibility("default")));
struct nedb_jv_table *nedb__jv_load(void) __attribute__((visibility("default")));
/* 0 once libjq is loaded; NEDB_EIO (nedb_errmsg says why) if it cannot
 * be.  Call it before the first jv or jq call of an entry point. */
int nedb__jv_require(void) __attribute__((visibility("default")));

#ifndef NEDB_JV_NO_MACROS
#define NEDB_JVT (__builtin_expect(nedb__jvt != 0, 1) ? nedb__jvt : nedb__jv_load())

#define jv_parse_sized (NEDB_JVT->jv_parse_sized)
#define jv_get_kind (NEDB_JVT->jv_get_kind)
#define jv_kind_name (NEDB_JVT->jv_kind_name)
#define jv_invalid_get_msg (NEDB_JVT->jv_invalid_get_msg)
#define jv_invalid_has_msg (NEDB_JVT->jv_invalid_has_msg)
#define jv_free (NEDB_JVT->jv_free)
#define jv_copy (NEDB_JVT->jv_copy)
#define jv_string_value (NEDB_JVT->jv_string_value)
#define jv_string_length_bytes (NEDB_JVT->jv_string_length_bytes)
#define jv_string_sized (NEDB_JVT->jv_string_sized)
#define jv_string (NEDB_JVT->jv_string)
#define jv_number_value (NEDB_JVT->jv_number_value)
#define jv_number (NEDB_JVT->jv_number)
#define jv_null (NEDB_JVT->jv_null)
#define jv_true (NEDB_JVT->jv_true)
#define jv_false (NEDB_JVT->jv_false)
#define jv_bool (NEDB_JVT->jv_bool)
#define jv_object (NEDB_JVT->jv_object)
#define jv_object_get (NEDB_JVT->jv_object_get)
#define jv_object_has (NEDB_JVT->jv_object_has)
#define jv_object_set (NEDB_JVT->jv_object_set)
#define jv_object_delete (NEDB_JVT->jv_object_delete)
#define jv_object_length (NEDB_JVT->jv_object_length)
#define jv_object_iter (NEDB_JVT->jv_object_iter)
#define jv_object_iter_next (NEDB_JVT->jv_object_iter_next)
#define jv_object_iter_valid (NEDB_JVT->jv_object_iter_valid)
#define jv_object_iter_key (NEDB_JVT->jv_object_iter_key)
#define jv_object_iter_value (NEDB_JVT->jv_object_iter_value)
#define jv_array (NEDB_JVT->jv_array)
#define jv_array_length (NEDB_JVT->jv_array_length)
#define jv_array_get (NEDB_JVT->jv_array_get)
#define jv_array_append (NEDB_JVT->jv_array_append)
#define jv_array_set (NEDB_JVT->jv_array_set)
#define jv_equal (NEDB_JVT->jv_equal)
#define jv_identical (NEDB_JVT->jv_identical)
#define jv_cmp (NEDB_JVT->jv_cmp)
#define jv_dump_string (NEDB_JVT->jv_dump_string)
#define jv_dump (NEDB_JVT->jv_dump)
#define jv_dumpf (NEDB_JVT->jv_dumpf)
#define jv_parser_new (NEDB_JVT->jv_parser_new)
#define jv_parser_free (NEDB_JVT->jv_parser_free)
#define jv_parser_set_buf (NEDB_JVT->jv_parser_set_buf)
#define jv_parser_next (NEDB_JVT->jv_parser_next)
#define jv_invalid (NEDB_JVT->jv_invalid)
#define jv_invalid_with_msg (NEDB_JVT->jv_invalid_with_msg)
#define jv_keys (NEDB_JVT->jv_keys)
#define jv_sort (NEDB_JVT->jv_sort)
#define jv_contains (NEDB_JVT->jv_contains)
#define jv_string_fmt (NEDB_JVT->jv_string_fmt)
#define jv_dump_string_trunc (NEDB_JVT->jv_dump_string_trunc)
#define jv_is_integer (NEDB_JVT->jv_is_integer)
#define jv_string_concat (NEDB_JVT->jv_string_concat)
#define jv_array_concat (NEDB_JVT->jv_array_concat)
#define jv_object_merge (NEDB_JVT->jv_object_merge)
#define jq_init (NEDB_JVT->jq_init)
#define jq_teardown (NEDB_JVT->jq_teardown)
#define jq_compile (NEDB_JVT->jq_compile)
#define jq_compile_args (NEDB_JVT->jq_compile_args)
#define jq_start (NEDB_JVT->jq_start)
#define jq_next (NEDB_JVT->jq_next)
#define jq_set_error_cb (NEDB_JVT->jq_set_error_cb)
#define jq_halted (NEDB_JVT->jq_halted)
#define jq_get_exit_code (NEDB_JVT->jq_get_exit_code)
#define jq_set_attr (NEDB_JVT->jq_set_attr)
#define jq_get_error_message (NEDB_JVT->jq_get_error_message)

/* jv.h defines this inline against the real symbol; route it too. */
#define jv_is_valid(x) (jv_get_kind(x) != JV_KIND_INVALID)
#endif

#endif
