/*
 * sp_gmime.h - GMime with GLib's g_autoptr() cleanup for the GObject types we
 * use (GMime 3.2 does not declare them itself).
 */
#ifndef SP_GMIME_H
#define SP_GMIME_H

#include <gmime/gmime.h>

#ifndef SP_GMIME_NO_AUTOPTR
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimePart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeMultipart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(GMimeFilter, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(InternetAddressList, g_object_unref)
#endif

#endif
