/* Private to the core module. */
#ifndef NEXTHAM_COREIMPL_H
#define NEXTHAM_COREIMPL_H
#include "nextham/core.h"

void nh_error_adopt(nh_err code, const char *message);

#endif
