/* malloc_trim(3): a long-running daemon gives the heap glibc kept after a
 * burst (freed chunks in its arenas) back to the kernel when it goes idle. */
#include "addon.h"
#include <malloc.h>

/* mallocTrim() -> whether memory was released */
static napi_value js_malloc_trim(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  napi_get_boolean(env, malloc_trim(0) == 1, &r);
  return r;
}

void dray_register_memory(napi_env env, napi_value exports) {
  dray_export(env, exports, "mallocTrim", js_malloc_trim);
}
