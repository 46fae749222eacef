/* SPDX-License-Identifier: MIT */
#pragma once

/* Removes name below parent_fd and everything in it, never following a
 * symbolic link: safe on a directory its former user could still touch. */
int rmtree_at(int parent_fd, const char *name);
