package collector

import (
	"time"

	"github.com/nfgo/nftools/expire"
)

// expire runs one expire cycle on dir after a rotation (nfcapd -e), with
// the limits of the command line over those of .nfstat, and logs it in
// nfcapd's words. It reports whether the directory was counted: then its
// disk usage is in Snapshot.
func (c *Collector) expire(dir string) bool {
	c.cfg.Infof("Run expire on '%s'", dir)
	start := time.Now()
	res, err := expire.Run(dir, c.cfg.ExpireLimits, start, c.cfg.Location)
	if err != nil {
		c.cfg.Errorf("expire failed: %v", err)
		return false
	}
	c.srcStats.disk(dir, res.After, start)
	if res.Rebuilt {
		c.cfg.Infof("Force rebuild stat record")
	}
	b, a := res.Before, res.After
	size, life := "<none>", "<none>"
	if b.MaxSize > 0 {
		size = expire.ScaleSize(b.MaxSize)
	}
	if b.Lifetime > 0 {
		life = expire.ScaleTime(b.Lifetime)
	}
	c.cfg.Infof("Limits: Filesize %s, Lifetime %s, Watermark: %d%%\n", size, life, b.Watermark)
	c.cfg.Infof("Current size: %s, Current lifetime: %s, Number of files: %d", expire.ScaleSize(b.Size), expire.ScaleTime(b.Last-b.First), b.NumFiles)
	for _, e := range res.Errors {
		c.cfg.Errorf("expire: %v", e)
	}
	if res.Removed == 0 {
		c.cfg.Infof("expire completed - nothing to expire.")
		return true
	}
	c.cfg.Infof("expire completed")
	c.cfg.Infof("   expired files: %d", res.Removed)
	c.cfg.Infof("   expired time slot: %s", expire.ScaleTime(a.First-b.First))
	c.cfg.Infof("   expired file size: %s", expire.ScaleSize(b.Size-a.Size))
	c.cfg.Infof("New size: %s, New lifetime: %s, Number of files: %d", expire.ScaleSize(a.Size), expire.ScaleTime(a.Last-a.First), a.NumFiles)
	return true
}
