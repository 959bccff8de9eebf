/* The byte-writing part of a `record_session` line's row step (services/bulk/session_lines.py),
 * compiled: the chain content, its SHA-256 chain hash and the stored state, written straight
 * from the line's values as orjson writes them, without the two dicts and the two encodings.
 *
 * session_row(head, patient_id, version, by, actor, approach, clinician, delivery, minutes,
 *             form, session_id, status, at, at_utc, timestamp, timestamp_utc, name)
 *   -> (chain_hash, state) | None
 *
 * None whenever a value is not of the plain form this writes exactly as orjson does (a text
 * with a character JSON escapes or that is not ASCII, an instant that is naive, not an exact
 * datetime, or whose UTC offset has seconds, an oversized value): the caller then writes
 * the bytes in Python, which is the reference. tests/app/test_bulk_row_step.py compares both
 * to the byte. Optional: without a C compiler the package installs without it. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>
#include <openssl/sha.h>
#include <string.h>

#define CAP 4096

typedef struct {
    char data[CAP];
    Py_ssize_t len;
} Buffer;

static PyObject *utcoffset_name;

static int put(Buffer *b, const char *text, Py_ssize_t n) {
    if (b->len + n > CAP) return 0;
    memcpy(b->data + b->len, text, (size_t)n);
    b->len += n;
    return 1;
}

#define PUT(b, literal) put((b), (literal), (Py_ssize_t)(sizeof(literal) - 1))

/* A JSON string of plain ASCII (no character JSON escapes), or null for None. */
static int put_text(Buffer *b, PyObject *value, int nullable) {
    if (value == Py_None) return nullable && PUT(b, "null");
    if (!PyUnicode_CheckExact(value) || !PyUnicode_IS_ASCII(value)) return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    const unsigned char *s = (const unsigned char *)PyUnicode_DATA(value);
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] < 0x20 || s[i] == '"' || s[i] == '\\' || s[i] == 0x7f) return 0;
    }
    return PUT(b, "\"") && put(b, (const char *)s, n) && PUT(b, "\"");
}

static int put_int(Buffer *b, PyObject *value) {
    if (!PyLong_CheckExact(value)) return 0;
    int overflow = 0;
    long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (number == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    char text[32];
    int n = snprintf(text, sizeof text, "%lld", number);
    return n > 0 && put(b, text, n);
}

/* An aware datetime as orjson writes it: YYYY-MM-DDTHH:MM:SS[.ffffff]+HH:MM, quoted. */
static int put_instant(Buffer *b, PyObject *value) {
    if (!PyDateTime_CheckExact(value)) return 0;
    PyObject *tz = PyDateTime_DATE_GET_TZINFO(value);
    if (tz == Py_None) return 0;
    long offset = 0;
    if (tz != PyDateTime_TimeZone_UTC) {
        PyObject *delta = PyObject_CallMethodNoArgs(value, utcoffset_name);
        if (delta == NULL) {
            PyErr_Clear();
            return 0;
        }
        if (!PyDelta_Check(delta)) {
            Py_DECREF(delta);
            return 0;
        }
        long days = PyDateTime_DELTA_GET_DAYS(delta);
        long seconds = PyDateTime_DELTA_GET_SECONDS(delta);
        long micro = PyDateTime_DELTA_GET_MICROSECONDS(delta);
        Py_DECREF(delta);
        offset = days * 86400 + seconds;
        if (micro != 0 || offset % 60 != 0) return 0;
    }
    char sign = offset < 0 ? '-' : '+';
    long whole = offset < 0 ? -offset : offset;
    char text[64];
    int year = PyDateTime_GET_YEAR(value), month = PyDateTime_GET_MONTH(value);
    int day = PyDateTime_GET_DAY(value), hour = PyDateTime_DATE_GET_HOUR(value);
    int minute = PyDateTime_DATE_GET_MINUTE(value), second = PyDateTime_DATE_GET_SECOND(value);
    int micro = PyDateTime_DATE_GET_MICROSECOND(value);
    int n;
    if (micro) {
        n = snprintf(text, sizeof text, "\"%04d-%02d-%02dT%02d:%02d:%02d.%06d%c%02ld:%02ld\"",
                     year, month, day, hour, minute, second, micro, sign, whole / 3600,
                     (whole % 3600) / 60);
    } else {
        n = snprintf(text, sizeof text, "\"%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld\"", year,
                     month, day, hour, minute, second, sign, whole / 3600, (whole % 3600) / 60);
    }
    return n > 0 && n < (int)sizeof text && put(b, text, n);
}

static const char HEX[] = "0123456789abcdef";

static PyObject *session_row(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 17) {
        PyErr_SetString(PyExc_TypeError, "session_row takes 17 arguments");
        return NULL;
    }
    PyObject *head = args[0], *patient_id = args[1], *version = args[2], *by = args[3];
    PyObject *actor = args[4], *approach = args[5], *clinician = args[6], *delivery = args[7];
    PyObject *minutes = args[8], *form = args[9], *session_id = args[10], *status = args[11];
    PyObject *at = args[12], *at_utc = args[13], *timestamp = args[14];
    PyObject *timestamp_utc = args[15], *name = args[16];
    if (!PyUnicode_CheckExact(head) || !PyUnicode_IS_ASCII(head)) Py_RETURN_NONE;

    /* the chain's input: the previous hash, a newline, then the content */
    Buffer chained; /* on the stack: utcoffset() may run Python code, and another thread */
    chained.len = 0;
    Buffer *c = &chained;
    int ok = put(c, (const char *)PyUnicode_DATA(head), PyUnicode_GET_LENGTH(head)) &&
             PUT(c, "\n{\"fields\":{\"actor\":") && put_text(c, actor, 1) &&
             PUT(c, ",\"approach\":") && put_text(c, approach, 0) &&
             PUT(c, ",\"clinician_id\":") && put_text(c, clinician, 1) &&
             PUT(c, ",\"delivery\":") && put_text(c, delivery, 0) &&
             PUT(c, ",\"duration_minutes\":") && put_int(c, minutes) &&
             PUT(c, ",\"format\":") && put_text(c, form, 0) &&
             PUT(c, ",\"occurred_at\":") && put_instant(c, at_utc);
    if (ok && by != Py_None) ok = PUT(c, ",\"recorded_by\":") && put_text(c, by, 0);
    ok = ok && PUT(c, ",\"session_id\":") && put_text(c, session_id, 0) &&
         PUT(c, ",\"status\":") && put_text(c, status, 0) &&
         PUT(c, ",\"timestamp\":") && put_instant(c, timestamp_utc) &&
         PUT(c, "},\"patient_id\":") && put_text(c, patient_id, 0) &&
         (by == Py_None ? PUT(c, ",\"schema_version\":1") : PUT(c, ",\"schema_version\":2")) &&
         PUT(c, ",\"type\":\"SessionRecorded\",\"version\":") && put_int(c, version) &&
         PUT(c, "}");
    if (!ok) Py_RETURN_NONE;

    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)c->data, (size_t)c->len, digest);
    char hash[2 * SHA256_DIGEST_LENGTH];
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) {
        hash[2 * i] = HEX[digest[i] >> 4];
        hash[2 * i + 1] = HEX[digest[i] & 15];
    }

    Buffer stored;
    stored.len = 0;
    Buffer *s = &stored;
    ok = PUT(s, "{\"timestamp\":{\"_type_\":") && put_text(s, name, 0) &&
         PUT(s, ",\"_data_\":") && put_instant(s, timestamp) &&
         PUT(s, "},\"occurred_at\":{\"_type_\":") && put_text(s, name, 0) &&
         PUT(s, ",\"_data_\":") && put_instant(s, at) &&
         PUT(s, "},\"actor\":") && put_text(s, actor, 1) &&
         PUT(s, ",\"recorded_by\":") && put_text(s, by, 1) &&
         PUT(s, ",\"chain_hash\":\"") && put(s, hash, sizeof hash) &&
         PUT(s, "\",\"session_id\":") && put_text(s, session_id, 0) &&
         PUT(s, ",\"format\":") && put_text(s, form, 0) &&
         PUT(s, ",\"approach\":") && put_text(s, approach, 0) &&
         PUT(s, ",\"duration_minutes\":") && put_int(s, minutes) &&
         PUT(s, ",\"delivery\":") && put_text(s, delivery, 0) &&
         PUT(s, ",\"status\":") && put_text(s, status, 0) &&
         PUT(s, ",\"clinician_id\":") && put_text(s, clinician, 1) &&
         PUT(s, ",\"class_version\":2}");
    if (!ok) Py_RETURN_NONE;

    PyObject *chain_hash = PyUnicode_FromStringAndSize(hash, sizeof hash);
    if (chain_hash == NULL) return NULL;
    PyObject *state = PyBytes_FromStringAndSize(s->data, s->len);
    if (state == NULL) {
        Py_DECREF(chain_hash);
        return NULL;
    }
    PyObject *result = PyTuple_Pack(2, chain_hash, state);
    Py_DECREF(chain_hash);
    Py_DECREF(state);
    return result;
}

static PyMethodDef methods[] = {
    {"session_row", (PyCFunction)(void (*)(void))session_row, METH_FASTCALL,
     "The chain hash and stored state of a recorded session, or None (see the module)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rowstep", NULL, -1, methods};

PyMODINIT_FUNC PyInit__rowstep(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    utcoffset_name = PyUnicode_InternFromString("utcoffset");
    if (utcoffset_name == NULL) return NULL;
    return PyModule_Create(&module);
}
