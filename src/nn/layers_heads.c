/* Output heads: hidden irreps -> the irreps of a padded orbital block
 * (equivariant linear) -> the block itself (exact CG map). */
#include "nextham/nn.h"

size_t nh_nn_head_nparams(const nh_nn_irreps *in, const nh_irreps_pairs *pp) {
  nh_nn_irreps out;
  nh_nn_irreps_from_pairs(pp, &out);
  return nh_nn_linear_nparams(in, &out);
}

void nh_nn_head_forward(double *P, double *work, const double *in,
                        const double *params, const nh_nn_irreps *ir_in,
                        const nh_irreps_pairs *pp, int n) {
  // in (n, ir_in.dim) -> work (n, pp.dim) irreps -> P (n, norb²) blocks
  nh_nn_irreps out;
  nh_nn_irreps_from_pairs(pp, &out);
  nh_nn_linear_forward(work, in, params, ir_in, &out, n);
  const size_t nb = (size_t)pp->norb * pp->norb;
  for (int i = 0; i < n; i++)
    nh_irreps_pairs_to_block(pp, work + (size_t)i * pp->dim, P + i * nb);
}

void nh_nn_head_backward(double *d_in, double *d_params, const double *d_P,
                         double *work, const double *in, const double *params,
                         const nh_nn_irreps *ir_in, const nh_irreps_pairs *pp,
                         int n) {
  // the block map is orthogonal: its backward is the forward map's inverse
  nh_nn_irreps out;
  nh_nn_irreps_from_pairs(pp, &out);
  const size_t nb = (size_t)pp->norb * pp->norb;
  for (int i = 0; i < n; i++)
    nh_irreps_pairs_to_features(pp, d_P + i * nb, work + (size_t)i * pp->dim);
  nh_nn_linear_backward(d_in, d_params, work, in, params, ir_in, &out, n);
}
