// Instants and the patient's local time. The API speaks UTC instants (ISO-8601, `T`,
// `+00:00`); people read and type the patient's local wall-clock time, in the patient's
// IANA time zone (the journey's `timezone`), converted here with the browser's Intl data.

const FIELDS = { timeZone: "UTC", hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" };
const formats = new Map();

function wallParts(ms, zone) {
  if (!formats.has(zone)) formats.set(zone, new Intl.DateTimeFormat("en-CA", { ...FIELDS, timeZone: zone }));
  const p = Object.fromEntries(formats.get(zone).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return { y: p.year, mo: p.month, d: p.day, h: p.hour, mi: p.minute, s: p.second };
}

// The zone's offset from UTC (ms) at the instant `ms`.
function offsetAt(ms, zone) {
  const w = wallParts(ms, zone);
  const wall = Date.UTC(+w.y, +w.mo - 1, +w.d, +w.h, +w.mi, +w.s);
  return wall - Math.floor(ms / 1000) * 1000;
}

// An instant as the API writes it: "2026-03-01T07:00:00+00:00".
export const isoInstant = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "+00:00");

// "YYYY-MM-DDTHH:MM[:SS]" read as wall-clock time in `zone` -> the UTC instant. A time
// skipped by a daylight-saving change is read with the offset before it; a repeated one
// as its first occurrence.
export function localToInstant(local, zone) {
  const [date, time] = local.split("T");
  const [y, mo, d] = date.split("-").map(Number);
  const [h, mi, s = 0] = time.split(":").map(Number);
  const wall = Date.UTC(y, mo - 1, d, h, mi, s);
  const first = wall - offsetAt(wall - 86400000, zone);
  const second = wall - offsetAt(wall + 86400000, zone);
  const fits = [first, second].filter((t) => t + offsetAt(t, zone) === wall).sort((a, b) => a - b);
  return isoInstant(fits.length ? fits[0] : first);
}

// An instant as the value of a datetime-local field in `zone`: "YYYY-MM-DDTHH:MM:SS".
export function instantToLocal(iso, zone) {
  const w = wallParts(Date.parse(iso), zone);
  return `${w.y}-${w.mo}-${w.d}T${w.h}:${w.mi}:${w.s}`;
}

// An instant as people read it in `zone`: "2026-03-01 00:00:00".
export const localText = (iso, zone) => instantToLocal(iso, zone).replace("T", " ");

// An instant given in the address: with its offset, or (older bookmarks) without, as UTC.
export const withOffset = (text) => (!text ? null : /([+-]\d\d:\d\d|Z)$/.test(text) ? text : `${text.length === 16 ? `${text}:00` : text}+00:00`);

// Whether the instant lies after the browser's clock: the journey there is projected.
export const inFuture = (iso) => Date.parse(iso) > Date.now();
