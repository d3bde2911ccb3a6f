/**
 * Tokeniser of the `When` boolean language.
 * @module
 */
import { FlowExpressionError } from '../errors.js';

/** Comparison operators of the `When` language. */
export type ComparisonOperator = '==' | '!=' | '>' | '<' | '>=' | '<=';

/** One token. `pos` is the 0-based offset of its first character in the source. */
export type Token =
  | {
      readonly kind: 'lparen' | 'rparen' | 'not' | 'and' | 'or' | 'end';
      readonly text: string;
      readonly pos: number;
    }
  | { readonly kind: 'compare'; readonly text: ComparisonOperator; readonly pos: number }
  | { readonly kind: 'string'; readonly text: string; readonly pos: number; readonly value: string }
  | { readonly kind: 'number'; readonly text: string; readonly pos: number; readonly value: number }
  | { readonly kind: 'literal'; readonly text: string; readonly pos: number; readonly value: boolean | null }
  | { readonly kind: 'lhs'; readonly text: string; readonly pos: number };

const WHITESPACE = /\s/;
const DIGIT = /[0-9]/;
const IDENT_START = /[A-Za-z]/;
const IDENT_PART = /[A-Za-z0-9_]/;
// Digits with at most one decimal point (`1.` is accepted, like an invariant decimal parse).
const NUMBER = /^-?\d+(\.\d*)?$/;
// Characters that end a left-hand side at bracket depth 0 (besides whitespace and `)`/`]`).
const LHS_STOP = new Set(['=', '!', '<', '>', '&', '|']);

function isDigit(c: string | undefined): boolean {
  return c !== undefined && DIGIT.test(c);
}

/**
 * Splits a `When` expression into tokens (whitespace skipped), ending with an `end` token.
 * @throws FlowExpressionError for unterminated strings, malformed numbers such as `1.2.3`,
 *   identifiers other than `true`/`false`/`null`, and unexpected characters.
 */
export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (message: string): never => {
    throw new FlowExpressionError(message, src);
  };
  while (i < src.length) {
    const c = src[i]!;
    const next = src[i + 1];
    const start = i;
    if (WHITESPACE.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c === '(' ? 'lparen' : 'rparen', text: c, pos: start });
      i++;
    } else if ((c === '=' || c === '!' || c === '<' || c === '>') && next === '=') {
      tokens.push({ kind: 'compare', text: `${c}=` as ComparisonOperator, pos: start });
      i += 2;
    } else if (c === '<' || c === '>') {
      tokens.push({ kind: 'compare', text: c, pos: start });
      i++;
    } else if (c === '!') {
      tokens.push({ kind: 'not', text: c, pos: start });
      i++;
    } else if ((c === '&' && next === '&') || (c === '|' && next === '|')) {
      tokens.push({ kind: c === '&' ? 'and' : 'or', text: c + c, pos: start });
      i += 2;
    } else if (c === "'" || c === '"') {
      // A backslash makes the next character literal; no other escape decoding.
      let value = '';
      i++;
      for (;;) {
        const ch = src[i];
        if (ch === undefined) {
          return fail(`Unterminated string literal at position ${start} in expression '${src}'.`);
        }
        if (ch === c) break;
        if (ch === '\\') {
          const escaped = src[i + 1];
          if (escaped === undefined) {
            return fail(`Unterminated string literal at position ${start} in expression '${src}'.`);
          }
          value += escaped;
          i += 2;
        } else {
          value += ch;
          i++;
        }
      }
      i++;
      tokens.push({ kind: 'string', text: src.slice(start, i), pos: start, value });
    } else if (isDigit(c) || (c === '-' && isDigit(next))) {
      i++;
      while (i < src.length && (isDigit(src[i]) || src[i] === '.')) i++;
      const text = src.slice(start, i);
      if (!NUMBER.test(text)) {
        return fail(`Invalid number literal '${text}' at position ${start} in expression '${src}'.`);
      }
      tokens.push({ kind: 'number', text, pos: start, value: Number(text) });
    } else if (IDENT_START.test(c)) {
      while (i < src.length && IDENT_PART.test(src[i]!)) i++;
      const word = src.slice(start, i);
      const lower = word.toLowerCase();
      if (lower !== 'true' && lower !== 'false' && lower !== 'null') {
        return fail(
          `Unexpected identifier '${word}' at position ${start}. Only 'true', 'false', 'null' literals are allowed; ` +
            `reference values via @steps()/@triggerBody()/@triggerHeaders().`,
        );
      }
      tokens.push({
        kind: 'literal',
        text: word,
        pos: start,
        value: lower === 'null' ? null : lower === 'true',
      });
    } else if (c === '@') {
      i = scanLhs(src, start);
      tokens.push({ kind: 'lhs', text: src.slice(start, i), pos: start });
    } else {
      return fail(`Unexpected character '${c}' at position ${start} in expression '${src}'.`);
    }
  }
  tokens.push({ kind: 'end', text: '', pos: src.length });
  return tokens;
}

/**
 * Returns the end offset of a left-hand side starting at `start` (an `@`). Everything inside
 * `(...)`/`[...]` belongs to it, including spaces and operators; at depth 0 it stops at
 * whitespace, an operator character, or an unmatched `)`/`]`. Quotes inside brackets are
 * tracked so a `)` or `]` in a quoted header name or step key does not close the bracket.
 */
function scanLhs(src: string, start: number): number {
  let depth = 0;
  let quote: string | null = null;
  let i = start + 1;
  for (; i < src.length; i++) {
    const c = src[i]!;
    if (quote !== null) {
      if (c === quote) quote = null;
      continue;
    }
    if (c === '(' || c === '[') {
      depth++;
    } else if (c === ')' || c === ']') {
      if (depth === 0) break;
      depth--;
    } else if (depth > 0) {
      if (c === "'" || c === '"') quote = c;
    } else if (WHITESPACE.test(c) || LHS_STOP.has(c)) {
      break;
    }
  }
  return i;
}
