/* TCP connection states, RFC 9293 names. */
#ifndef HS_STATE_H
#define HS_STATE_H

typedef enum hs_state {
	HS_CLOSED = 0,
	HS_LISTEN,
	HS_SYN_SENT,
	HS_SYN_RECEIVED,
	HS_ESTABLISHED,
	HS_FIN_WAIT_1,
	HS_FIN_WAIT_2,
	HS_CLOSE_WAIT,
	HS_CLOSING,
	HS_LAST_ACK,
	HS_TIME_WAIT,
	HS_STATE_COUNT
} hs_state;

/* "SYN-SENT" etc.; "?" for out-of-range values. */
const char *hs_state_name(hs_state s);
/* Inverse of hs_state_name (exact match); returns -1 if unknown. */
int hs_state_parse(const char *s);

#endif
