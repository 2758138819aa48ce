// What portico prints goes to a terminal, and part of it is other people's
// text: a provider's error_description, an API's response body, a path from a
// file. C0 and C1 control characters in it would be commands to the terminal
// (retitle the window, clear the screen, move the cursor to overwrite a line,
// and, in some terminals, worse), so none reaches it raw.

// C0 but tab and newline, DEL, and C1 (0x80-0x9f: ESC's 8-bit forms, CSI and OSC among them).
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: as above, with tab and newline.
const CONTROL_OR_BREAK = /[\u0000-\u001f\u007f-\u009f]+/g;
const HIGH_CONTROL = /[\u007f-\u009f]/g;

/** `text` without control characters; its line breaks and tabs stay (help, the login summary). */
export const printable = (text: string) => text.replace(CONTROL, '');

/** `text` on one line without control characters: a line break in someone else's text would fake a line of portico's own. */
export const oneLine = (text: string) => text.replace(CONTROL_OR_BREAK, ' ');

/**
 * `value` as indented JSON with every control character escaped: the same
 * JSON value, printable. JSON.stringify escapes C0 itself, not DEL and C1.
 */
export const jsonText = (value: unknown) =>
  JSON.stringify(value ?? null, null, 2).replace(HIGH_CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
