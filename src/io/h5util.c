/* HDF5 helpers with nextham errors (see h5util.h). */
#include "h5util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nh_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* Keeps the description of the innermost HDF5 error (the last one walked
 * downward), which is the one that says what was wrong. */
static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data) {
  (void)n;
  if (e->desc && e->desc[0]) snprintf((char *)data, 512, "%s", e->desc);
  return 0;
}

nh_err nh_h5_fail(nh_err code, const char *srcfile, int line, const char *func,
                  const char *path, hid_t loc, const char *name,
                  const char *what) {
  char detail[512] = "", obj[512] = "";
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, innermost, detail);
  H5Eclear2(H5E_DEFAULT);
  if (!name) {
    return nh_error_set(code, srcfile, line, func, "%s: cannot %s%s%s", path,
                        what, detail[0] ? ": " : "", detail);
  } else if (name[0] == '/') {
    snprintf(obj, sizeof obj, "%s", name);
  } else {
    char base[400] = "";
    if (loc >= 0 && H5Iget_name(loc, base, sizeof base) < 0) base[0] = '\0';
    size_t n = strlen(base);
    const char *sep = n && base[n - 1] == '/' ? "" : "/";
    if (name[0])
      snprintf(obj, sizeof obj, "%s%s%s", base, sep, name);
    else
      snprintf(obj, sizeof obj, "%s", base[0] ? base : "/");
  }
  return nh_error_set(code, srcfile, line, func, "%s: cannot %s %s%s%s", path,
                      what, obj, detail[0] ? ": " : "", detail);
}

void nh_h5_close(hid_t *id) {
  if (*id < 0) return;
  switch (H5Iget_type(*id)) {
  case H5I_FILE: H5Fclose(*id); break;
  case H5I_GROUP: H5Gclose(*id); break;
  case H5I_DATASET: H5Dclose(*id); break;
  case H5I_DATASPACE: H5Sclose(*id); break;
  case H5I_ATTR: H5Aclose(*id); break;
  case H5I_DATATYPE: H5Tclose(*id); break;
  case H5I_GENPROP_LST: H5Pclose(*id); break;
  default: break;
  }
  *id = -1;
}

static nh_err mpio_fapl(const char *path, MPI_Comm comm, hid_t *fapl) {
  *fapl = H5Pcreate(H5P_FILE_ACCESS);
  NH_H5_CHECK(*fapl >= 0, NH_ERR_HDF5, path, -1, NULL,
              "create a file access property list");
  if (H5Pset_fapl_mpio(*fapl, comm, MPI_INFO_NULL) < 0) {
    nh_err err = nh_h5_fail(NH_ERR_HDF5, __FILE__, __LINE__, __func__, path,
                            -1, NULL, "set up MPI-IO");
    nh_h5_close(fapl);
    return err;
  }
  return NH_OK;
}

nh_err nh_h5_create_file(const char *path, MPI_Comm comm, hid_t *file) {
  hid_t fapl;
  NH_CALL(mpio_fapl(path, comm, &fapl));
  H5Pset_coll_metadata_write(fapl, 1);
  *file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  nh_err err = NH_OK;
  if (*file < 0) /* before any other HDF5 call clears the error stack */
    err = nh_h5_fail(NH_ERR_HDF5, __FILE__, __LINE__, __func__, path, -1,
                     NULL, "create the file");
  nh_h5_close(&fapl);
  return err;
}

nh_err nh_h5_open_file(const char *path, MPI_Comm comm, hid_t *file) {
  hid_t fapl;
  NH_CALL(mpio_fapl(path, comm, &fapl));
  *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
  nh_err err = NH_OK;
  if (*file < 0)
    err = nh_h5_fail(NH_ERR_FILE, __FILE__, __LINE__, __func__, path, -1,
                     NULL, "open the file (not HDF5, or truncated or "
                     "corrupt?)");
  nh_h5_close(&fapl);
  return err;
}

nh_err nh_h5_create_group(const char *path, hid_t loc, const char *name,
                          hid_t *grp) {
  *grp = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  NH_H5_CHECK(*grp >= 0, NH_ERR_HDF5, path, loc, name, "create group");
  return NH_OK;
}

int nh_h5_exists(hid_t loc, const char *name) {
  htri_t t = H5Lexists(loc, name, H5P_DEFAULT);
  H5Eclear2(H5E_DEFAULT);
  return t > 0;
}

nh_err nh_h5_open_group(const char *path, hid_t loc, const char *name,
                        hid_t *grp) {
  *grp = -1;
  NH_H5_CHECK(nh_h5_exists(loc, name), NH_ERR_FILE, path, loc, name,
              "find group");
  *grp = H5Gopen2(loc, name, H5P_DEFAULT);
  NH_H5_CHECK(*grp >= 0, NH_ERR_FILE, path, loc, name, "open group");
  return NH_OK;
}

/* Creates a scalar attribute and writes one value of memtype. */
static nh_err attr_write(const char *path, hid_t loc, const char *name,
                         hid_t ftype, hid_t mtype, const void *value) {
  hid_t space = H5Screate(H5S_SCALAR), attr = -1;
  nh_err err = NH_OK;
  attr = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
  if (attr < 0 || H5Awrite(attr, mtype, value) < 0)
    err = nh_h5_fail(NH_ERR_HDF5, __FILE__, __LINE__, __func__, path, loc,
                     name, "write attribute");
  nh_h5_close(&attr);
  nh_h5_close(&space);
  return err;
}

static hid_t vlen_string_type(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  H5Tset_cset(t, H5T_CSET_UTF8);
  return t;
}

nh_err nh_h5_attr_write_str(const char *path, hid_t loc, const char *name,
                            const char *value) {
  hid_t t = vlen_string_type();
  nh_err err = attr_write(path, loc, name, t, t, &value);
  nh_h5_close(&t);
  NH_CALL(err);
  return NH_OK;
}

nh_err nh_h5_attr_write_int(const char *path, hid_t loc, const char *name,
                            int64_t value) {
  NH_CALL(attr_write(path, loc, name, H5T_STD_I64LE, H5T_NATIVE_INT64, &value));
  return NH_OK;
}

nh_err nh_h5_attr_write_double(const char *path, hid_t loc, const char *name,
                               double value) {
  NH_CALL(attr_write(path, loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                     &value));
  return NH_OK;
}

/* Opens attribute `name` and checks it holds one value of class cls. */
static nh_err attr_open(const char *path, hid_t loc, const char *name,
                        H5T_class_t cls, const char *kind, hid_t *attr) {
  *attr = -1;
  htri_t has = H5Aexists(loc, name);
  H5Eclear2(H5E_DEFAULT);
  NH_H5_CHECK(has > 0, NH_ERR_FILE, path, loc, name, "find attribute");
  *attr = H5Aopen(loc, name, H5P_DEFAULT);
  NH_H5_CHECK(*attr >= 0, NH_ERR_FILE, path, loc, name, "open attribute");
  hid_t type = H5Aget_type(*attr), space = H5Aget_space(*attr);
  H5T_class_t c = H5Tget_class(type);
  hssize_t npts = H5Sget_simple_extent_npoints(space);
  nh_h5_close(&type);
  nh_h5_close(&space);
  int ok = npts == 1 && (c == cls || (cls == H5T_FLOAT && c == H5T_INTEGER));
  if (!ok) nh_h5_close(attr);
  char what[96];
  snprintf(what, sizeof what, "use (not a single %s) attribute", kind);
  NH_H5_CHECK(ok, NH_ERR_FILE, path, loc, name, what);
  return NH_OK;
}

nh_err nh_h5_attr_read_str(const char *path, hid_t loc, const char *name,
                           char *buf, size_t len) {
  hid_t attr, ftype = -1, mtype = -1;
  NH_CALL(attr_open(path, loc, name, H5T_STRING, "string", &attr));
  ftype = H5Aget_type(attr);
  nh_err err = NH_OK;
  herr_t rc;
  if (H5Tis_variable_str(ftype) > 0) {
    char *s = NULL;
    mtype = vlen_string_type();
    rc = H5Aread(attr, mtype, &s);
    if (rc >= 0) snprintf(buf, len, "%s", s ? s : "");
    if (s) H5free_memory(s);
  } else {
    size_t n = H5Tget_size(ftype);
    char *tmp = NULL;
    NH_CALL_GOTO(nh_calloc(n + 1, 1, &tmp), done);
    mtype = H5Tcopy(H5T_C_S1);
    H5Tset_size(mtype, n + 1);
    rc = H5Aread(attr, mtype, tmp);
    if (rc >= 0) snprintf(buf, len, "%s", tmp);
    nh_free(&tmp);
  }
  if (rc < 0)
    err = nh_h5_fail(NH_ERR_FILE, __FILE__, __LINE__, __func__, path, loc,
                     name, "read attribute");
done:
  nh_h5_close(&mtype);
  nh_h5_close(&ftype);
  nh_h5_close(&attr);
  return err;
}

static nh_err attr_read_num(const char *path, hid_t loc, const char *name,
                            H5T_class_t cls, hid_t mtype, void *value) {
  hid_t attr;
  NH_CALL(attr_open(path, loc, name, cls,
                    cls == H5T_INTEGER ? "integer" : "number", &attr));
  nh_err err = NH_OK;
  if (H5Aread(attr, mtype, value) < 0)
    err = nh_h5_fail(NH_ERR_FILE, __FILE__, __LINE__, __func__, path, loc,
                     name, "read attribute");
  nh_h5_close(&attr);
  return err;
}

nh_err nh_h5_attr_read_int(const char *path, hid_t loc, const char *name,
                           int64_t *value) {
  NH_CALL(attr_read_num(path, loc, name, H5T_INTEGER, H5T_NATIVE_INT64, value));
  return NH_OK;
}

nh_err nh_h5_attr_read_double(const char *path, hid_t loc, const char *name,
                              double *value) {
  NH_CALL(attr_read_num(path, loc, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, value));
  return NH_OK;
}

nh_err nh_h5_dset_create(const char *path, hid_t loc, const char *name,
                         hid_t type, int rank, const hsize_t *dims,
                         hid_t *dset) {
  hid_t space = H5Screate_simple(rank, dims, NULL);
  NH_H5_CHECK(space >= 0, NH_ERR_HDF5, path, loc, name, "create dataspace of");
  *dset = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT,
                     H5P_DEFAULT);
  nh_err err = NH_OK;
  if (*dset < 0)
    err = nh_h5_fail(NH_ERR_HDF5, __FILE__, __LINE__, __func__, path, loc,
                     name, "create dataset");
  nh_h5_close(&space);
  return err;
}

nh_err nh_h5_dset_open(const char *path, hid_t loc, const char *name,
                       hid_t memtype, int rank, hsize_t width, hsize_t *dims,
                       hid_t *dset) {
  *dset = -1;
  NH_H5_CHECK(nh_h5_exists(loc, name), NH_ERR_FILE, path, loc, name,
              "find dataset");
  *dset = H5Dopen2(loc, name, H5P_DEFAULT);
  NH_H5_CHECK(*dset >= 0, NH_ERR_FILE, path, loc, name, "open dataset");
  hid_t space = H5Dget_space(*dset), type = H5Dget_type(*dset);
  int nd = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
  if (nd == rank) H5Sget_simple_extent_dims(space, dims, NULL);
  int same_class = H5Tget_class(type) == H5Tget_class(memtype);
  nh_h5_close(&space);
  nh_h5_close(&type);
  char what[128];
  if (nd != rank || (rank == 2 && width && dims[1] != width) || !same_class) {
    nh_h5_close(dset);
    if (!same_class)
      snprintf(what, sizeof what, "use (wrong element type: expected %s) "
               "dataset", H5Tget_class(memtype) == H5T_FLOAT ? "float"
                                                              : "integer");
    else if (nd != rank)
      snprintf(what, sizeof what, "use (expected %d dimensions, found %d) "
               "dataset", rank, nd);
    else
      snprintf(what, sizeof what, "use (expected %llu columns, found %llu) "
               "dataset", (unsigned long long)width,
               (unsigned long long)dims[1]);
    NH_H5_CHECK(0, NH_ERR_FILE, path, loc, name, what);
  }
  return NH_OK;
}

/* Selects rows [start, start + count) of dset in fspace and a matching
 * contiguous memory space (nothing when count is 0). */
static nh_err select_rows(hid_t dset, hsize_t start, hsize_t count,
                          hsize_t width, hid_t *fspace, hid_t *mspace) {
  *fspace = H5Dget_space(dset);
  int nd = H5Sget_simple_extent_ndims(*fspace);
  hsize_t st[2] = {start, 0}, cnt[2] = {count, width};
  hsize_t mdim = count * (nd == 2 ? width : 1);
  *mspace = H5Screate_simple(1, mdim ? &mdim : (hsize_t[]){1}, NULL);
  herr_t rc;
  if (count == 0) {
    rc = H5Sselect_none(*fspace);
    if (rc >= 0) rc = H5Sselect_none(*mspace);
  } else {
    rc = H5Sselect_hyperslab(*fspace, H5S_SELECT_SET, st, NULL, cnt, NULL);
  }
  return rc < 0 ? NH_ERR_HDF5 : NH_OK;
}

static nh_err transfer_rows(const char *path, hid_t dset, hid_t memtype,
                            hsize_t start, hsize_t count, hsize_t width,
                            void *buf, int collective, int write) {
  hid_t fspace = -1, mspace = -1, dxpl = H5Pcreate(H5P_DATASET_XFER);
  double dummy;
  if (!buf) buf = &dummy; /* count == 0: HDF5 wants a pointer anyway */
  H5Pset_dxpl_mpio(dxpl, collective ? H5FD_MPIO_COLLECTIVE
                                    : H5FD_MPIO_INDEPENDENT);
  herr_t rc = -1;
  if (select_rows(dset, start, count, width, &fspace, &mspace) != NH_OK)
    rc = -1;
  else if (H5Sget_simple_extent_npoints(fspace) == 0)
    rc = 0; /* an empty dataset has no storage: nothing to transfer */
  else if (write)
    rc = H5Dwrite(dset, memtype, mspace, fspace, dxpl, buf);
  else
    rc = H5Dread(dset, memtype, mspace, fspace, dxpl, buf);
  nh_err err = NH_OK;
  if (rc < 0)
    err = nh_h5_fail(write ? NH_ERR_HDF5 : NH_ERR_FILE, __FILE__, __LINE__,
                     __func__, path, dset, "",
                     write ? "write dataset" : "read dataset");
  nh_h5_close(&fspace);
  nh_h5_close(&mspace);
  nh_h5_close(&dxpl);
  return err;
}

nh_err nh_h5_write_rows(const char *path, hid_t dset, hid_t memtype,
                        hsize_t start, hsize_t count, hsize_t width,
                        const void *buf, int collective) {
  NH_CALL(transfer_rows(path, dset, memtype, start, count, width, (void *)buf,
                        collective, 1));
  return NH_OK;
}

nh_err nh_h5_read_rows(const char *path, hid_t dset, hid_t memtype,
                       hsize_t start, hsize_t count, hsize_t width, void *buf,
                       int collective) {
  NH_CALL(transfer_rows(path, dset, memtype, start, count, width, buf,
                        collective, 0));
  return NH_OK;
}

nh_err nh_h5_read_ranges(const char *path, hid_t dset, hid_t memtype, int n,
                         const hsize_t *off, const hsize_t *len, void *buf) {
  if (n == 0) return NH_OK;
  hid_t fspace = H5Dget_space(dset), mspace = -1;
  hsize_t total = 0;
  herr_t rc = 0;
  for (int k = 0; k < n && rc >= 0; k++) {
    rc = H5Sselect_hyperslab(fspace, k ? H5S_SELECT_OR : H5S_SELECT_SET,
                             &off[k], NULL, &len[k], NULL);
    total += len[k];
  }
  if (rc >= 0) {
    mspace = H5Screate_simple(1, &total, NULL);
    rc = H5Dread(dset, memtype, mspace, fspace, H5P_DEFAULT, buf);
  }
  nh_err err = NH_OK;
  if (rc < 0)
    err = nh_h5_fail(NH_ERR_FILE, __FILE__, __LINE__, __func__, path, dset, "",
                     "read dataset");
  nh_h5_close(&fspace);
  nh_h5_close(&mspace);
  return err;
}
