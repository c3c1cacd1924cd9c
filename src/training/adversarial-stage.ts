/**
 * One CUT / FastCUT iteration (facts 1.5): forward G on [x; y] (CUT) or x (FastCUT), update D on
 * LSGAN(D(G(x)).detach() -> 0, D(y) -> 1) / 2, then update G and F on
 * lambda_GAN * LSGAN(D(G(x)) -> 1) + NCE, where NCE = (PatchNCE(x, G(x)) + PatchNCE(y, G(y))) / 2
 * with identity NCE, else PatchNCE(x, G(x)), plus lambda_identity * |G(y) - y|_1 when that option is
 * on (not CUT's; identity-term.ts). The G step sees the just-updated D.
 *
 * Detaching in TF.js: there is no stop-gradient op, so everything that must carry no gradient (the
 * fake fed to D's step, the NCE keys after F) is computed outside the gradient tape, in a first
 * pass that also yields the key taps for free (nce-terms.ts).
 */
import { tf, type Scalar } from '../tf.ts';
import { ganLoss } from '../losses/gan.ts';
import { createNceTerms, sliceBatch } from './nce-terms.ts';
import { identityTerm } from './identity-term.ts';
import {
  checkFinite,
  gradientsWithLogs,
  type Batch,
  type Stage,
  type StageContext,
  type StepLosses,
} from './stage.ts';

export function createAdversarialStage(ctx: StageContext): Stage {
  const { nets, opt, options: o, rng } = ctx;
  const { g, d, f } = nets;
  const nce = createNceTerms(ctx);

  const step = (batch: Batch, lr: number): StepLosses => {
    const { a: x, b: y } = batch;
    const n = x.shape[0];
    const flipped = o.flipEquivariance && rng.next() < 0.5;

    // Pass 1, outside the tape: the detached fake for D, and the detached NCE keys.
    const { fakeB: fakeDetached, keys } = nce.detachedPass(batch, flipped);

    // D step.
    const dStep = gradientsWithLogs(
      (log) => {
        const lossFake = ganLoss(d.forward(fakeDetached), false, o.ganMode);
        const lossReal = ganLoss(d.forward(y), true, o.ganMode);
        log('D_fake', lossFake);
        log('D_real', lossReal);
        return tf.mul(tf.add(lossFake, lossReal), 0.5) as Scalar;
      },
      [d.params],
    );
    fakeDetached.dispose();
    const losses: StepLosses = { D: dStep.value, ...dStep.logs };
    try {
      checkFinite('discriminator loss', losses, dStep.grads);
    } catch (err) {
      nce.dispose(keys);
      throw err;
    }
    opt.d.apply(dStep.grads, lr);
    tf.dispose(Object.values(dStep.grads));

    // G and F step, against the updated D.
    const gStep = gradientsWithLogs(
      (log) => {
        const input = nce.input(batch, flipped);
        const fake = g.forward(input);
        const fakeB = sliceBatch(fake, 0, n);
        let total = tf.scalar(0);
        if (o.lambdaGAN > 0) {
          const lossGan = tf.mul(ganLoss(d.forward(fakeB), true, o.ganMode), o.lambdaGAN) as Scalar;
          log('G_GAN', lossGan);
          total = tf.add(total, lossGan);
        }
        const lossNce = nce.loss(fake, n, keys, flipped, log);
        if (lossNce) total = tf.add(total, lossNce);
        const lossIdt = identityTerm(fake, input, n, o.lambdaIdentity, log);
        if (lossIdt) total = tf.add(total, lossIdt);
        return total;
      },
      [g.params, f.params],
    );
    nce.dispose(keys);
    Object.assign(losses, { G: gStep.value, ...gStep.logs });
    checkFinite('generator loss', losses, gStep.grads);
    opt.g.apply(gStep.grads, lr);
    opt.f.apply(gStep.grads, lr);
    tf.dispose(Object.values(gStep.grads));
    return losses;
  };

  return { name: 'adversarial', step };
}
