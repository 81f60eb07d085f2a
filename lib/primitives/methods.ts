/**
 * Method forms of the ops on Tensor (`x.mul(y).sum()`), installed on the
 * prototype from the op table (./ops.ts) so that tensor/ does not depend on
 * primitives/. Their types come from the same table.
 */
import { Tensor } from "../tensor/tensor.js";
import { OPS, type MethodForms } from "./ops.js";
import { transpose } from "./shape.js";

declare module "../tensor/tensor.js" {
  interface Tensor extends MethodForms {
    /** The matrix transpose of a 2-D tensor (a view). */
    readonly T: Tensor;
  }
}

for (const [name, row] of Object.entries(OPS)) {
  if (!row.method) continue;
  const fn = row.fn as (self: Tensor, ...args: unknown[]) => Tensor;
  // A method named after its op (for stack traces), passing the tensor first.
  const method = { [name](this: Tensor, ...args: unknown[]): Tensor { return fn(this, ...args); } }[name];
  Object.defineProperty(Tensor.prototype, name, { value: method, writable: true, configurable: true, enumerable: false });
}
Object.defineProperty(Tensor.prototype, "T", {
  get(this: Tensor) {
    if (this.ndim !== 2) throw new Error(`T: needs a 2-D tensor, got shape [${this.shape.join(",")}]; use transpose(x, axes)`);
    return transpose(this);
  },
  configurable: true,
  enumerable: false,
});
