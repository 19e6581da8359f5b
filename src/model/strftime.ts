// Python's strftime for chat templates. HF `transformers` gives templates `strftime_now(format)`,
// which is `datetime.now().strftime(format)`: local time, formatted by glibc in the C locale (so
// English month and day names whatever the user's language). @huggingface/jinja's own
// strftime_now formats months in the browser's locale and knows only %Y %m %d %b %B %H %M, so a
// French browser would write "juil." where the model was trained on "Jul".

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function pad(n: number, width: number, fill: string): string {
  return String(n).padStart(width, fill);
}

/** Day of the year, 1-based (Jan 1 = 1). */
function dayOfYear(d: Date): number {
  return Math.round((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(d.getFullYear(), 0, 1)) / 86_400_000) + 1;
}

/** Week of the year with weeks starting on `firstDay` (0 Sunday for %U, 1 Monday for %W); days before the first such day are week 0. */
function weekOfYear(d: Date, firstDay: number): number {
  const yday = dayOfYear(d) - 1;
  const wday = (d.getDay() - firstDay + 7) % 7;
  return Math.floor((yday + 7 - wday) / 7);
}

/** ISO 8601 week-based year and week number (%G, %V). */
function isoWeek(d: Date): { year: number; week: number } {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day); // the Thursday of this ISO week decides its year
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86_400_000 + 1) / 7);
  return { year, week };
}

/**
 * Formats `date` (its local time) like Python's `date.strftime(format)` on Linux. Supports the
 * directives of C89 and glibc that templates use, and glibc's `-` flag (no padding, "%-d" -> "7").
 * %Z and %z are empty, as for Python's naive `datetime.now()`. Unknown directives are kept as
 * written, as glibc does.
 */
export function strftime(date: Date, format: string): string {
  const d = date;
  const h12 = d.getHours() % 12 || 12;
  return format.replace(/%(-?)([a-zA-Z%])/g, (whole: string, flag: string, c: string): string => {
    const num = (v: number, width: number, fill = '0'): string => (flag === '-' ? String(v) : pad(v, width, fill));
    switch (c) {
      case 'a': return DAYS[d.getDay()]!.slice(0, 3);
      case 'A': return DAYS[d.getDay()]!;
      case 'b': case 'h': return MONTHS[d.getMonth()]!.slice(0, 3);
      case 'B': return MONTHS[d.getMonth()]!;
      case 'c': return strftime(d, '%a %b %e %H:%M:%S %Y');
      case 'C': return num(Math.floor(d.getFullYear() / 100), 2);
      case 'd': return num(d.getDate(), 2);
      case 'D': case 'x': return strftime(d, '%m/%d/%y');
      case 'e': return num(d.getDate(), 2, ' ');
      case 'F': return strftime(d, '%Y-%m-%d');
      case 'f': return num(d.getMilliseconds() * 1000, 6);
      case 'G': return String(isoWeek(d).year);
      case 'g': return num(isoWeek(d).year % 100, 2);
      case 'H': return num(d.getHours(), 2);
      case 'I': return num(h12, 2);
      case 'j': return num(dayOfYear(d), 3);
      case 'k': return num(d.getHours(), 2, ' ');
      case 'l': return num(h12, 2, ' ');
      case 'm': return num(d.getMonth() + 1, 2);
      case 'M': return num(d.getMinutes(), 2);
      case 'n': return '\n';
      case 'p': return d.getHours() < 12 ? 'AM' : 'PM';
      case 'P': return d.getHours() < 12 ? 'am' : 'pm';
      case 'r': return strftime(d, '%I:%M:%S %p');
      case 'R': return strftime(d, '%H:%M');
      case 's': return String(Math.floor(d.getTime() / 1000));
      case 'S': return num(d.getSeconds(), 2);
      case 't': return '\t';
      case 'T': case 'X': return strftime(d, '%H:%M:%S');
      case 'u': return String(d.getDay() || 7);
      case 'U': return num(weekOfYear(d, 0), 2);
      case 'V': return num(isoWeek(d).week, 2);
      case 'w': return String(d.getDay());
      case 'W': return num(weekOfYear(d, 1), 2);
      case 'y': return num(d.getFullYear() % 100, 2);
      case 'Y': return String(d.getFullYear());
      case 'z': case 'Z': return '';
      case '%': return '%';
      default: return whole;
    }
  });
}
