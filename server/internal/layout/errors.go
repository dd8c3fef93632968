package layout

import "errors"

// Sentinel errors, matched with errors.Is. Every error this package makes
// wraps one of them, except filesystem errors from Load and Save, which are
// returned wrapped with their path. The message around a sentinel names the
// drive argument or path and says what is wrong, because operators read it
// at startup.
var (
	// ErrBadPattern: a drive argument is not a valid ellipsis pattern.
	ErrBadPattern = errors.New("layout: bad drive pattern")
	// ErrDuplicateDrive: two drive arguments name the same drive.
	ErrDuplicateDrive = errors.New("layout: duplicate drive")
	// ErrBadLayout: the drive count or the parity cannot form erasure sets.
	ErrBadLayout = errors.New("layout: invalid erasure layout")

	// ErrUnformatted: the drive has no format.json (a blank drive).
	ErrUnformatted = errors.New("layout: drive is not formatted")
	// ErrCorruptFormat: format.json exists but cannot be decoded or is
	// inconsistent with itself.
	ErrCorruptFormat = errors.New("layout: corrupt format.json")

	// ErrForeignDrive: the drive belongs to another deployment.
	ErrForeignDrive = errors.New("layout: drive belongs to another deployment")
	// ErrWrongSlot: the drive belongs to this deployment but was given at
	// another argument position or in another pool.
	ErrWrongSlot = errors.New("layout: drive is in the wrong position")
	// ErrFormatMismatch: drives of the same deployment and pool record
	// different layouts.
	ErrFormatMismatch = errors.New("layout: drives disagree on the recorded layout")
	// ErrLayoutChanged: the drive arguments ask for another layout than the
	// one recorded on the drives.
	ErrLayoutChanged = errors.New("layout: pool layout changed")
	// ErrNoQuorum: too few drives have a readable format to start safely.
	ErrNoQuorum = errors.New("layout: not enough formatted drives")
)
