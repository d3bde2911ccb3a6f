/**
 * Recursive-descent parser of the `When` language. Precedence, lowest first:
 * `||`, `&&`, `!`, one (non-associative) comparison, primary (parenthesised, literal or LHS).
 * @module
 */
import { FlowExpressionError } from '../errors.js';
import { type ComparisonOperator, type Token, tokenize } from './lexer.js';

/** A node of a parsed `When` expression. */
export type WhenNode =
  | { readonly kind: 'or' | 'and'; readonly left: WhenNode; readonly right: WhenNode }
  | { readonly kind: 'not'; readonly operand: WhenNode }
  | {
      readonly kind: 'compare';
      readonly op: ComparisonOperator;
      readonly left: WhenNode;
      readonly right: WhenNode;
    }
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null }
  | { readonly kind: 'lhs'; readonly text: string; readonly pos: number };

/** A parsed `When` expression: the syntax tree plus what trace formatting needs. */
export interface ParsedWhen {
  /** The source text as given. */
  readonly source: string;
  /** Root of the syntax tree. */
  readonly root: WhenNode;
  /** For each distinct LHS text, the offset of its first occurrence (where the trace substitutes it). */
  readonly lhsPositions: ReadonlyMap<string, number>;
}

class Parser {
  private index = 0;
  readonly lhsPositions = new Map<string, number>();

  constructor(
    private readonly src: string,
    private readonly tokens: readonly Token[],
  ) {}

  parse(): WhenNode {
    const root = this.parseOr();
    const trailing = this.peek();
    if (trailing.kind !== 'end') this.unexpected(trailing);
    return root;
  }

  private peek(): Token {
    // The token list always ends with an `end` token, and we never advance past it.
    return this.tokens[this.index]!;
  }

  private advance(): Token {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private unexpected(token: Token): never {
    const text = token.kind === 'end' ? '<end of expression>' : token.text;
    throw new FlowExpressionError(
      `Unexpected token '${text}' at position ${token.pos} in expression '${this.src}'.`,
      this.src,
    );
  }

  private parseOr(): WhenNode {
    let left = this.parseAnd();
    while (this.peek().kind === 'or') {
      this.advance();
      left = { kind: 'or', left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): WhenNode {
    let left = this.parseNot();
    while (this.peek().kind === 'and') {
      this.advance();
      left = { kind: 'and', left, right: this.parseNot() };
    }
    return left;
  }

  private parseNot(): WhenNode {
    if (this.peek().kind === 'not') {
      this.advance();
      return { kind: 'not', operand: this.parseNot() };
    }
    return this.parseComparison();
  }

  private parseComparison(): WhenNode {
    const left = this.parsePrimary();
    const token = this.peek();
    if (token.kind !== 'compare') return left;
    this.advance();
    return { kind: 'compare', op: token.text, left, right: this.parsePrimary() };
  }

  private parsePrimary(): WhenNode {
    const token = this.advance();
    switch (token.kind) {
      case 'lparen': {
        const inner = this.parseOr();
        const close = this.peek();
        if (close.kind !== 'rparen') {
          throw new FlowExpressionError(
            `Expected ')' at position ${close.pos} in expression '${this.src}'.`,
            this.src,
          );
        }
        this.advance();
        return inner;
      }
      case 'string':
      case 'number':
      case 'literal':
        return { kind: 'literal', value: token.value };
      case 'lhs':
        if (!this.lhsPositions.has(token.text)) this.lhsPositions.set(token.text, token.pos);
        return { kind: 'lhs', text: token.text, pos: token.pos };
      default:
        return this.unexpected(token);
    }
  }
}

// Flows evaluate the same few clauses over and over; keep parsed trees (oldest evicted first).
const CACHE_LIMIT = 1024;
const cache = new Map<string, ParsedWhen>();

/**
 * Parses (and caches) a `When` expression. Use it to validate flows at registration.
 * @throws FlowExpressionError on lexical or syntax errors (messages give the 0-based position).
 */
export function parseWhen(expression: string): ParsedWhen {
  const cached = cache.get(expression);
  if (cached) return cached;
  const parser = new Parser(expression, tokenize(expression));
  const root = parser.parse();
  const parsed: ParsedWhen = { source: expression, root, lhsPositions: parser.lhsPositions };
  if (cache.size >= CACHE_LIMIT) {
    const oldest = cache.keys().next();
    if (!oldest.done) cache.delete(oldest.value);
  }
  cache.set(expression, parsed);
  return parsed;
}
