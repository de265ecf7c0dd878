/** `T` with its `readonly` removed: for building a readonly value field by field before handing it out. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };
