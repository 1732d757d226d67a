#include <cblas.h>
/* OpenBLAS thread control (declared in OpenBLAS's cblas.h; repeated here so
   the shim documents what AnomalyKit relies on). */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
