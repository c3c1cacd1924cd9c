/**
 * The optional pixel identity term of a G step: lambda_identity * |G(y) - y|_1, on the target-domain
 * half of G's [x; y] input (createNceTerms puts y in the input when this term is on). Shared by every
 * stage that updates G on real images, so that the option means the same in each.
 */
import { tf, type Tensor4D, type Scalar } from '../tf.ts';
import { identityL1 } from '../losses/identity.ts';
import { sliceBatch } from './nce-terms.ts';

/**
 * `fake` = G(input), both [2n, H, W, C] when the term is on; null when lambda is 0. Flips need no
 * care: input and output are mirrored together.
 */
export function identityTerm(
  fake: Tensor4D,
  input: Tensor4D,
  n: number,
  lambda: number,
  log: (name: string, t: Scalar) => void,
): Scalar | null {
  if (lambda <= 0) return null;
  if (input.shape[0] < 2 * n) throw new Error('identity term: G was not run on [x; y]');
  const loss = tf.mul(identityL1(sliceBatch(fake, n, n), sliceBatch(input, n, n)), lambda) as Scalar;
  log('G_idt', loss);
  return loss;
}
