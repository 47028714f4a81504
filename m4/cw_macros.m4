# cw_macros.m4: small configure helpers for certward.

# CW_CHECK_CFLAG(FLAG)
# Append FLAG to CW_CFLAGS when the C compiler accepts it without warnings.
AC_DEFUN([CW_CHECK_CFLAG], [
  AS_VAR_PUSHDEF([cw_var], [cw_cv_cflag_$1])
  AC_CACHE_CHECK([whether $CC accepts $1], [cw_var], [
    cw_save_CFLAGS=$CFLAGS
    CFLAGS="$CFLAGS -Werror $1"
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [return 0;])],
      [AS_VAR_SET([cw_var], [yes])], [AS_VAR_SET([cw_var], [no])])
    CFLAGS=$cw_save_CFLAGS])
  AS_VAR_IF([cw_var], [yes], [CW_CFLAGS="$CW_CFLAGS $1"])
  AS_VAR_POPDEF([cw_var])
])

# CW_REQUIRE_PKG(VAR, MODULES, DEBIAN-PACKAGE)
# pkg-config check that stops with a message naming the Debian package.
AC_DEFUN([CW_REQUIRE_PKG], [
  PKG_CHECK_MODULES([$1], [$2], [],
    [AC_MSG_ERROR([$2 not found: install the Debian package $3])])
])
