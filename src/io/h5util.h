/* Private to io: small HDF5 helpers that turn HDF5 failures into nh_err
 * messages naming the file and the object ("FILE: cannot read
 * /matrices/S/values: <HDF5's innermost message>"). Every helper takes
 * the file path for messages and an object location plus a name relative to
 * it. Reads fail with NH_ERR_FILE (the file is bad), writes with
 * NH_ERR_HDF5. Parallel HDF5: creating objects and attributes is collective
 * (every rank calls with the same arguments). */
#ifndef NEXTHAM_H5UTIL_H
#define NEXTHAM_H5UTIL_H

#include <hdf5.h>

#include "nextham/core.h"

/* Stops HDF5 from printing its error stack; nextham reports errors itself. */
void nh_h5_quiet(void);
/* Records an HDF5 failure about object `name` below `loc` (loc may be < 0,
 * then name is used as is; name NULL: the file itself) and returns code.
 * Call it right after the failing HDF5 call: any later HDF5 call clears the
 * error stack that holds HDF5's own description. */
nh_err nh_h5_fail(nh_err code, const char *srcfile, int line, const char *func,
                  const char *path, hid_t loc, const char *name,
                  const char *what);
#define NH_H5_CHECK(cond, code, path, loc, name, what)                         \
  do {                                                                         \
    if (!(cond))                                                               \
      return nh_h5_fail((code), __FILE__, __LINE__, __func__, (path), (loc),   \
                        (name), (what));                                       \
  } while (0)

/* Closes a file, group, dataset, dataspace, attribute, type or property
 * list and sets *id = -1; accepts -1. */
void nh_h5_close(hid_t *id);

/* File access with MPI-IO on comm. */
nh_err nh_h5_create_file(const char *path, MPI_Comm comm, hid_t *file);
nh_err nh_h5_open_file(const char *path, MPI_Comm comm, hid_t *file);

nh_err nh_h5_create_group(const char *path, hid_t loc, const char *name,
                          hid_t *grp);
nh_err nh_h5_open_group(const char *path, hid_t loc, const char *name,
                        hid_t *grp);
/* 1 if a link `name` exists below loc. */
int nh_h5_exists(hid_t loc, const char *name);

/* Attributes: strings are variable-length UTF-8 (h5py reads them as str);
 * the readers accept fixed-length strings too. Integers are int64. */
nh_err nh_h5_attr_write_str(const char *path, hid_t loc, const char *name,
                            const char *value);
nh_err nh_h5_attr_write_int(const char *path, hid_t loc, const char *name,
                            int64_t value);
nh_err nh_h5_attr_write_double(const char *path, hid_t loc, const char *name,
                               double value);
nh_err nh_h5_attr_read_str(const char *path, hid_t loc, const char *name,
                           char *buf, size_t len);
nh_err nh_h5_attr_read_int(const char *path, hid_t loc, const char *name,
                           int64_t *value);
nh_err nh_h5_attr_read_double(const char *path, hid_t loc, const char *name,
                              double *value);

/* Creates a contiguous dataset of file type `type` (H5T_STD_I64LE, ...)
 * with rank 1 or 2. */
nh_err nh_h5_dset_create(const char *path, hid_t loc, const char *name,
                         hid_t type, int rank, const hsize_t *dims,
                         hid_t *dset);
/* Opens a dataset and checks its rank and that its type has the class of
 * memtype (integer or float); dims receives the extents. When width > 0
 * the second extent must equal it. */
nh_err nh_h5_dset_open(const char *path, hid_t loc, const char *name,
                       hid_t memtype, int rank, hsize_t width, hsize_t *dims,
                       hid_t *dset);

/* Rows [start, start + count) of a 1-D dataset (width 1) or of a 2-D
 * dataset with `width` columns, from/to a contiguous buffer of memtype.
 * count may be 0 (the rank then selects nothing, which collective calls
 * need). collective selects H5FD_MPIO_COLLECTIVE. */
nh_err nh_h5_write_rows(const char *path, hid_t dset, hid_t memtype,
                        hsize_t start, hsize_t count, hsize_t width,
                        const void *buf, int collective);
nh_err nh_h5_read_rows(const char *path, hid_t dset, hid_t memtype,
                       hsize_t start, hsize_t count, hsize_t width, void *buf,
                       int collective);
/* Reads a list of disjoint element ranges [off[k], off[k] + len[k]) of a
 * 1-D dataset into buf, back to back, in one independent read. */
nh_err nh_h5_read_ranges(const char *path, hid_t dset, hid_t memtype, int n,
                         const hsize_t *off, const hsize_t *len, void *buf);

#endif
