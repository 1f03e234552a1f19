/*
 * banned.h - functions that are too easy to misuse.  Use snprintf (checked
 * for truncation), the buf API, strtol-based parsing and gmtime_r instead.
 */
#ifndef SPOTENV_BANNED_H
#define SPOTENV_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_spotenv

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef sprintf
#define sprintf(...) BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok)
#undef atoi
#define atoi(x) BANNED(atoi)
#undef gmtime
#define gmtime(x) BANNED(gmtime)
#undef localtime
#define localtime(x) BANNED(localtime)

#endif
