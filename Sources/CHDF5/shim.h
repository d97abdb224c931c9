// The HDF5 serial C API. The native type ids and property-list defaults are macros that expand to
// library globals behind H5open(), which Swift cannot import; the inline accessors below expose them.
#include <hdf5.h>

static inline hid_t qg_h5t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t qg_h5t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t qg_h5t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t qg_h5t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t qg_h5t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t qg_h5t_c_s1(void) { return H5T_C_S1; }
static inline hid_t qg_h5p_default(void) { return H5P_DEFAULT; }
static inline hid_t qg_h5p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t qg_h5s_all(void) { return H5S_ALL; }
static inline unsigned qg_h5f_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned qg_h5f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
