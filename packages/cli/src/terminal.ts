// What portico prints goes to a terminal, and part of it is other people's
// text: a provider's error_description, an API's response body, a path from a
// file. C0 and C1 control characters in it would be commands to the terminal
// (retitle the window, clear the screen, move the cursor to overwrite a line,
// and, in some terminals, worse), bidi controls would reorder a line, and a
// line break would fake a line of portico's own: none reaches it raw.

// Characters that are no text of their own but change how the rest shows:
// C0 but tab and newline, DEL and C1 (0x80-0x9f: ESC's 8-bit forms, CSI and
// OSC among them); the bidi controls (U+061C, U+200E-200F, U+202A-202E,
// U+2066-2069), which reorder what follows them so a line reads other than
// it is (Trojan Source); and U+2028/2029, line and paragraph separators.
const C0 = '\\u0000-\\u0008\\u000b-\\u001f';
const OTHERS = '\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
const CONTROL = new RegExp(`[${C0}${OTHERS}]`, 'g');
// As above, with tab and newline.
const CONTROL_OR_BREAK = new RegExp(`[${C0}${OTHERS}\\t\\n]+`, 'g');
// What JSON.stringify leaves raw: it escapes C0 itself.
const UNESCAPED = new RegExp(`[${OTHERS}]`, 'g');

/** `text` without hidden characters; its line breaks and tabs stay (help, the login summary). */
export const printable = (text: string) => text.replace(CONTROL, '');

/** `text` on one line without hidden characters: a line break in someone else's text would fake a line of portico's own. */
export const oneLine = (text: string) => text.replace(CONTROL_OR_BREAK, ' ');

/**
 * `value` as indented JSON with every hidden character escaped: the same
 * JSON value, printable.
 */
export const jsonText = (value: unknown) =>
  JSON.stringify(value ?? null, null, 2).replace(UNESCAPED, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
