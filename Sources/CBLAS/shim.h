// OpenBLAS's CBLAS interface and the LAPACKE C interface to LAPACK.
// Debian's libopenblas provides the LAPACK routines; liblapacke provides the LAPACKE wrappers over them.
#include <cblas.h>
#include <lapacke.h>
