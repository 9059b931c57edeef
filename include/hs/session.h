/* placeholder: the shared driver loop (capture -> tcb -> send -> output) */
#ifndef HS_SESSION_H
#define HS_SESSION_H
#endif
